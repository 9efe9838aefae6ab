-- db/migrate/20261107150000_make_cards_status_not_null.rb
-- change_column_null :cards, :status, false, "active"
BEGIN;
UPDATE "cards" SET "status" = 'active' WHERE "status" IS NULL;
ALTER TABLE "cards" ALTER COLUMN "status" SET NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261107150000') RETURNING "version";
COMMIT;
