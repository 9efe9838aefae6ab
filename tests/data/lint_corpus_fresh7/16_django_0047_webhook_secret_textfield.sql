BEGIN;
--
-- Alter field secret on webhook
--
ALTER TABLE "webhooks" ALTER COLUMN "secret" TYPE text USING "secret"::text;
COMMIT;
