BEGIN;

-- Running upgrade 1a2b3c4d5e6f -> 7c8d9e0f1a2b

ALTER TABLE sessions ADD COLUMN user_agent VARCHAR(512);

UPDATE alembic_version SET version_num='7c8d9e0f1a2b' WHERE alembic_version.version_num = '1a2b3c4d5e6f';

COMMIT;
