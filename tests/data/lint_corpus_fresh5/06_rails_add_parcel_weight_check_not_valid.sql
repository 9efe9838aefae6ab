-- == 20261105090000 AddParcelWeightCheck: migrating ===============================
-- add_check_constraint(:parcels, "weight_g > 0", {:name=>"parcels_weight_positive", :validate=>false})
BEGIN;
ALTER TABLE "parcels" ADD CONSTRAINT parcels_weight_positive CHECK (weight_g > 0) NOT VALID;
INSERT INTO "schema_migrations" ("version") VALUES ('20261105090000');
COMMIT;
