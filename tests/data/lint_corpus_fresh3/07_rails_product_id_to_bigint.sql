-- change_column :order_items, :product_id, :bigint
BEGIN;
ALTER TABLE "order_items" ALTER COLUMN "product_id" TYPE bigint;
INSERT INTO "schema_migrations" ("version") VALUES ('20250410090000') RETURNING "version";
COMMIT;
