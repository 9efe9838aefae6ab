BEGIN;
--
-- Add field shipping_address to order
--
ALTER TABLE "orders" ADD COLUMN "shipping_address_id" integer NULL CONSTRAINT "orders_shipping_address_id_5f2b0c1e_fk_addresses_id" REFERENCES "addresses"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "orders_shipping_address_id_5f2b0c1e_fk_addresses_id" IMMEDIATE;
CREATE INDEX "orders_shipping_address_id_5f2b0c1e" ON "orders" ("shipping_address_id");
COMMIT;
