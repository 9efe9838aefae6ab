-- == 20261107100000 RemoveNotesFromPatients: migrating ===========================
-- (self.ignored_columns += ["notes"] shipped in the previous deploy)
-- -- remove_column(:patients, :notes, :text)
BEGIN;
ALTER TABLE "patients" DROP COLUMN "notes";
INSERT INTO "schema_migrations" ("version") VALUES ('20261107100000') RETURNING "version";
COMMIT;
