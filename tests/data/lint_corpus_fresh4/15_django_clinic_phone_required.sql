BEGIN;
--
-- Alter field phone on clinic
--
ALTER TABLE "clinics" ALTER COLUMN "phone" SET NOT NULL;
COMMIT;
