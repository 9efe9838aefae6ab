-- [info] == Running 20261121090000 Clinicflow.Repo.Migrations.BackfillVisitNoteAuthor.up/0 forward
-- @disable_ddl_transaction true / @disable_migration_lock true; batches of 100 via repo().query!
SET lock_timeout TO '2s';
UPDATE "visit_notes" AS v SET "author_id" = a."practitioner_id" FROM "appointments" AS a WHERE a."id" = v."appointment_id" AND v."id" IN (SELECT "id" FROM "visit_notes" WHERE "author_id" IS DISTINCT FROM 0 AND "id" > 0 ORDER BY "id" LIMIT 100);
UPDATE "visit_notes" AS v SET "author_id" = a."practitioner_id" FROM "appointments" AS a WHERE a."id" = v."appointment_id" AND v."id" IN (SELECT "id" FROM "visit_notes" WHERE "id" > 100 ORDER BY "id" LIMIT 100);
UPDATE "visit_notes" AS v SET "author_id" = a."practitioner_id" FROM "appointments" AS a WHERE a."id" = v."appointment_id" AND v."id" IN (SELECT "id" FROM "visit_notes" WHERE "id" > 200 ORDER BY "id" LIMIT 100);
RESET lock_timeout;
INSERT INTO "schema_migrations" ("version","inserted_at") VALUES ('20261121090000', '2026-11-21 09:00:00');
