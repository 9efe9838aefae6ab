-- == 20261105090000 ChangeDefaultKindOnAppointments: migrating ===================
-- -- change_column_default(:appointments, :kind, {from: "in_person", to: "video"})
BEGIN;
ALTER TABLE "appointments" ALTER COLUMN "kind" SET DEFAULT 'video';
INSERT INTO "schema_migrations" ("version") VALUES ('20261105090000') RETURNING "version";
COMMIT;
