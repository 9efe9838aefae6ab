BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 6c8f1a3e9b27

COMMIT;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_custom_fields ON tickets USING gin (custom_fields jsonb_path_ops);

BEGIN;

UPDATE alembic_version SET version_num='6c8f1a3e9b27' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
