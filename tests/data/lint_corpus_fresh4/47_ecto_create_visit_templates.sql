-- [info] == Running 20261120143000 Clinicflow.Repo.Migrations.CreateVisitTemplates.change/0 forward
-- [info] create table visit_templates
CREATE TABLE "visit_templates" ("id" bigserial, "clinic_id" bigint CONSTRAINT "visit_templates_clinic_id_fkey" REFERENCES "clinics"("id") ON DELETE CASCADE, "name" varchar(255) NOT NULL, "duration_minutes" integer DEFAULT 30 NOT NULL, "inserted_at" timestamp(0) NOT NULL, "updated_at" timestamp(0) NOT NULL, PRIMARY KEY ("id"));
-- [info] create index visit_templates_clinic_id_index
CREATE INDEX "visit_templates_clinic_id_index" ON "visit_templates" ("clinic_id");
-- [info] create index visit_templates_clinic_id_name_index
CREATE UNIQUE INDEX "visit_templates_clinic_id_name_index" ON "visit_templates" ("clinic_id", "name");
INSERT INTO "schema_migrations" ("version","inserted_at") VALUES ('20261120143000', '2026-11-20 14:30:00');
