BEGIN;
--
-- Add field display_name to account
--
ALTER TABLE "accounts" ADD COLUMN "display_name" varchar(100) NULL;
--
-- Raw SQL operation
--
UPDATE "accounts" SET "display_name" = "full_name" WHERE "display_name" IS NULL;
COMMIT;
