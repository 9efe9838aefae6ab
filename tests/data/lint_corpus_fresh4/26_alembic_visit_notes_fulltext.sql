BEGIN;

-- Running upgrade 2b3c4d5e6f7a -> 8f7e6d5c4b3a

ALTER TABLE visit_notes ADD COLUMN body_tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', coalesce(body, ''))) STORED;

CREATE INDEX ix_visit_notes_body_tsv ON visit_notes USING gin (body_tsv);

UPDATE alembic_version SET version_num='8f7e6d5c4b3a' WHERE alembic_version.version_num = '2b3c4d5e6f7a';

COMMIT;
