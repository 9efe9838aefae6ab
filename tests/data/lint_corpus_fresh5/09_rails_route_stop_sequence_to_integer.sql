-- == 20261106140000 ChangeRouteStopSequenceToInteger: migrating ===================
-- change_column(:route_stops, :sequence, :integer)
BEGIN;
ALTER TABLE "route_stops" ALTER COLUMN "sequence" TYPE integer;
INSERT INTO "schema_migrations" ("version") VALUES ('20261106140000');
COMMIT;
