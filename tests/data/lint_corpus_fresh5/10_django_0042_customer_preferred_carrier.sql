BEGIN;
--
-- Add field preferred_carrier to customer
--
ALTER TABLE "customers" ADD COLUMN "preferred_carrier_id" integer NULL CONSTRAINT "customers_preferred_carrier_id_3f1a9c2e_fk_carriers_id" REFERENCES "carriers"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "customers_preferred_carrier_id_3f1a9c2e_fk_carriers_id" IMMEDIATE;
CREATE INDEX "customers_preferred_carrier_id_3f1a9c2e" ON "customers" ("preferred_carrier_id");
COMMIT;
