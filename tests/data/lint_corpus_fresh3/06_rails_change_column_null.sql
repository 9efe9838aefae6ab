-- change_column_null :accounts, :full_name, false
BEGIN;
ALTER TABLE "accounts" ALTER COLUMN "full_name" SET NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20250403111111') RETURNING "version";
COMMIT;
