-- == 20261104080000 RequireDriverPhone: migrating =================================
-- change_column_null(:drivers, :phone, false, "")
BEGIN;
UPDATE "drivers" SET "phone"='' WHERE "phone" IS NULL;
ALTER TABLE "drivers" ALTER COLUMN "phone" SET NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261104080000');
COMMIT;
