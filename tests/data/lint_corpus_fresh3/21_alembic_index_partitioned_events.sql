BEGIN;

-- Running upgrade 1a2b3c4d5e6f -> 2b3c4d5e6f7a

CREATE INDEX ix_events_kind ON events (kind);

UPDATE alembic_version SET version_num='2b3c4d5e6f7a' WHERE alembic_version.version_num = '1a2b3c4d5e6f';

COMMIT;
