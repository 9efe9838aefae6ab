--liquibase formatted sql

--changeset ops:2026-11-11-1
UPDATE warehouses SET country = 'DE' WHERE country IS NULL;

--changeset ops:2026-11-11-2
ALTER TABLE warehouses ADD CONSTRAINT warehouses_country_not_null CHECK (country IS NOT NULL) NOT VALID;

--changeset ops:2026-11-11-3
ALTER TABLE warehouses VALIDATE CONSTRAINT warehouses_country_not_null;

--changeset ops:2026-11-11-4
ALTER TABLE warehouses ALTER COLUMN country SET NOT NULL;
ALTER TABLE warehouses DROP CONSTRAINT warehouses_country_not_null;
