BEGIN;
--
-- Remove field blocked from customer
--
ALTER TABLE "customers" DROP COLUMN "blocked" CASCADE;
--
-- Add field status to customer
--
ALTER TABLE "customers" ADD COLUMN "status" varchar(16) DEFAULT 'active' NOT NULL; ALTER TABLE "customers" ALTER COLUMN "status" DROP DEFAULT;
COMMIT;
