BEGIN;
--
-- Alter field name on warehouse
--
ALTER TABLE "warehouses" ALTER COLUMN "name" TYPE varchar(200);
COMMIT;
