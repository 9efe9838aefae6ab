-- == 20261105093000 ValidateRouteStopsShipmentForeignKey: migrating ===============
-- validate_foreign_key(:route_stops, :shipments)
BEGIN;
ALTER TABLE "route_stops" VALIDATE CONSTRAINT "route_stops_shipment_id_fkey";
INSERT INTO "schema_migrations" ("version") VALUES ('20261105093000');
COMMIT;
