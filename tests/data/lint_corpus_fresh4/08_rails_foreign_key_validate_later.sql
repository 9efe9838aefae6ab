-- == 20261108110000 AddPrescriptionsMedicationForeignKey: migrating ==============
-- -- add_foreign_key(:prescriptions, :medications, {validate: false})
BEGIN;
ALTER TABLE "prescriptions" ADD CONSTRAINT "fk_rails_3d4e5f6a7b"
FOREIGN KEY ("medication_id")
  REFERENCES "medications" ("id")
 NOT VALID;
INSERT INTO "schema_migrations" ("version") VALUES ('20261108110000') RETURNING "version";
COMMIT;
-- == 20261108110100 ValidatePrescriptionsMedicationForeignKey: migrating =========
-- -- validate_foreign_key(:prescriptions, :medications)
BEGIN;
ALTER TABLE "prescriptions" VALIDATE CONSTRAINT "fk_rails_3d4e5f6a7b";
INSERT INTO "schema_migrations" ("version") VALUES ('20261108110100') RETURNING "version";
COMMIT;
