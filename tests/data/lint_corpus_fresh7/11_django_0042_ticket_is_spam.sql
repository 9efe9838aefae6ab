BEGIN;
--
-- Add field is_spam to ticket
--
ALTER TABLE "tickets" ADD COLUMN "is_spam" boolean DEFAULT false NOT NULL; ALTER TABLE "tickets" ALTER COLUMN "is_spam" DROP DEFAULT;
COMMIT;
