-- == 20261104120000 AddClinicToInvoices: migrating ===============================
-- -- add_reference(:invoices, :clinic, {foreign_key: true})
BEGIN;
ALTER TABLE "invoices" ADD "clinic_id" bigint;
CREATE INDEX "index_invoices_on_clinic_id" ON "invoices" ("clinic_id");
ALTER TABLE "invoices" ADD CONSTRAINT "fk_rails_1a2b3c4d5e"
FOREIGN KEY ("clinic_id")
  REFERENCES "clinics" ("id")
;
INSERT INTO "schema_migrations" ("version") VALUES ('20261104120000') RETURNING "version";
COMMIT;
