BEGIN;
--
-- Add field sms_opt_in to patient
--
ALTER TABLE "patients" ADD COLUMN "sms_opt_in" boolean DEFAULT false NOT NULL; ALTER TABLE "patients" ALTER COLUMN "sms_opt_in" DROP DEFAULT;
COMMIT;
