BEGIN;
--
-- Alter field description on product
--
ALTER TABLE "products" ALTER COLUMN "description" TYPE varchar(500);
COMMIT;
