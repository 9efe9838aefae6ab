BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 5b1d6f3c8e47

ALTER TABLE audit_log ALTER COLUMN user_agent TYPE VARCHAR(512);

UPDATE alembic_version SET version_num='5b1d6f3c8e47' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
