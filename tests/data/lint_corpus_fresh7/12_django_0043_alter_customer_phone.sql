BEGIN;
--
-- Alter field phone on customer
--
ALTER TABLE "customers" ALTER COLUMN "phone" TYPE varchar(40);
COMMIT;
