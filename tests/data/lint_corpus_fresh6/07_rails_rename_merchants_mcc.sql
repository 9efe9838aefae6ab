-- db/migrate/20261108100000_rename_mcc_on_merchants.rb
-- rename_column :merchants, :mcc, :merchant_category_code
BEGIN;
ALTER TABLE "merchants" RENAME COLUMN "mcc" TO "merchant_category_code";
INSERT INTO "schema_migrations" ("version") VALUES ('20261108100000') RETURNING "version";
COMMIT;
