-- add_reference :orders, :coupon, index: true (Rails builds the index in the migration's transaction)
BEGIN;
ALTER TABLE "orders" ADD "coupon_id" bigint;
CREATE INDEX "index_orders_on_coupon_id" ON "orders" ("coupon_id");
INSERT INTO "schema_migrations" ("version") VALUES ('20250320120000') RETURNING "version";
COMMIT;
