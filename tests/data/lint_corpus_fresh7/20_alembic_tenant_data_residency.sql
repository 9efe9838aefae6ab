BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 1f4b8d2e6a90

ALTER TABLE tenants ADD COLUMN data_residency VARCHAR(16);

UPDATE tenants SET data_residency = coalesce(region, 'us');

ALTER TABLE tenants ALTER COLUMN data_residency SET NOT NULL;

UPDATE alembic_version SET version_num='1f4b8d2e6a90' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
