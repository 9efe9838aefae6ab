-- == 20261103101010 AddRouteToParcels: migrating ==================================
-- add_reference(:parcels, :route, {:foreign_key=>true})
BEGIN;
ALTER TABLE "parcels" ADD "route_id" bigint;
CREATE INDEX "index_parcels_on_route_id" ON "parcels" ("route_id");
ALTER TABLE "parcels" ADD CONSTRAINT "fk_rails_5e2c1a9b3d" FOREIGN KEY ("route_id") REFERENCES "routes" ("id");
INSERT INTO "schema_migrations" ("version") VALUES ('20261103101010');
COMMIT;
