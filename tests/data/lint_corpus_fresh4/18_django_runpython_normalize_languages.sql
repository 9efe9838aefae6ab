BEGIN;
--
-- Add field language_code to patient
--
ALTER TABLE "patients" ADD COLUMN "language_code" varchar(8) NULL;
--
-- Raw SQL operation
--
UPDATE patients SET language_code = lower(preferred_language) WHERE preferred_language IS NOT NULL;
COMMIT;
