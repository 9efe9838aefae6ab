-- == 20261106140000 RequirePractitionerEmail: migrating ==========================
-- -- change_column_null(:practitioners, :email, false, "unknown@clinic.example")
BEGIN;
UPDATE "practitioners" SET "email"='unknown@clinic.example' WHERE "email" IS NULL;
ALTER TABLE "practitioners" ALTER COLUMN "email" SET NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261106140000') RETURNING "version";
COMMIT;
