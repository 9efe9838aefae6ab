BEGIN;
--
-- Add field website to clinic
--
ALTER TABLE "clinics" ADD COLUMN "website" varchar(200) NULL;
COMMIT;
