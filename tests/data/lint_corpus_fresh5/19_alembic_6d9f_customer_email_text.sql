BEGIN;

-- Running upgrade a41c7e2d9b10 -> 6d9f2a3b4c5e

ALTER TABLE customers ALTER COLUMN email TYPE TEXT;

ALTER TABLE customers ALTER COLUMN tax_id TYPE VARCHAR(32);

UPDATE alembic_version SET version_num='6d9f2a3b4c5e' WHERE alembic_version.version_num = 'a41c7e2d9b10';

COMMIT;
