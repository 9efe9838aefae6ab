BEGIN;
--
-- Alter field name on organization
--
ALTER TABLE "organizations" ALTER COLUMN "name" TYPE varchar(255);
--
-- Alter field full_name on account
--
ALTER TABLE "accounts" ALTER COLUMN "full_name" TYPE text;
--
-- Alter field balance on account
--
ALTER TABLE "accounts" ALTER COLUMN "balance" TYPE numeric(14, 2);
COMMIT;
