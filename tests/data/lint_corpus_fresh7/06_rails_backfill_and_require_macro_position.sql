-- db/migrate/20261013120000_require_macro_position.rb
--   change_column_null :macros, :position, false, 0
BEGIN;
UPDATE "macros" SET "position"=0 WHERE "macros"."position" IS NULL;
ALTER TABLE "macros" ALTER COLUMN "position" SET NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261013120000') RETURNING "version";
COMMIT;
