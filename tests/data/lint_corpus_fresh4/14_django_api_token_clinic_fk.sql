BEGIN;
--
-- Add field clinic to apitoken
--
ALTER TABLE "api_tokens" ADD COLUMN "clinic_id" bigint NULL CONSTRAINT "api_tokens_clinic_id_5e2b9c1f_fk_clinics_id" REFERENCES "clinics"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "api_tokens_clinic_id_5e2b9c1f_fk_clinics_id" IMMEDIATE;
CREATE INDEX "api_tokens_clinic_id_5e2b9c1f" ON "api_tokens" ("clinic_id");
COMMIT;
