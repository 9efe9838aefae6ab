-- == 20261102101500 AddPreferredNameToPatients: migrating ========================
-- -- add_column(:patients, :preferred_name, :string)
BEGIN;
ALTER TABLE "patients" ADD "preferred_name" character varying;
INSERT INTO "schema_migrations" ("version") VALUES ('20261102101500') RETURNING "version";
COMMIT;
