BEGIN;

-- Running upgrade 0c4d8e2f6a1b -> 5a6b7c8d9e0f

ALTER TABLE payments ALTER COLUMN external_ref TYPE UUID USING external_ref::uuid;

UPDATE alembic_version SET version_num='5a6b7c8d9e0f' WHERE alembic_version.version_num = '0c4d8e2f6a1b';

COMMIT;
