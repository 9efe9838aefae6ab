-- alembic upgrade 5e8a13c0d7b4:91f2c4b8e0aa --sql
BEGIN;

-- Running upgrade 5e8a13c0d7b4 -> 91f2c4b8e0aa

ALTER TABLE transfers ALTER COLUMN created_at TYPE TIMESTAMP WITH TIME ZONE;

UPDATE alembic_version SET version_num='91f2c4b8e0aa' WHERE alembic_version.version_num = '5e8a13c0d7b4';

COMMIT;
