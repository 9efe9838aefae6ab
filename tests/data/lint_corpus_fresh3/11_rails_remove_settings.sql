BEGIN;
ALTER TABLE "accounts" DROP COLUMN "settings";
INSERT INTO "schema_migrations" ("version") VALUES ('20250501090000') RETURNING "version";
COMMIT;
