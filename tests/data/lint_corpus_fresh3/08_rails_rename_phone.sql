BEGIN;
ALTER TABLE "accounts" RENAME COLUMN "phone" TO "phone_number";
INSERT INTO "schema_migrations" ("version") VALUES ('20250411090000') RETURNING "version";
COMMIT;
