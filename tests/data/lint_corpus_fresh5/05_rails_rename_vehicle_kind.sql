-- == 20261104111500 RenameVehicleKindToVehicleType: migrating =====================
BEGIN;
ALTER TABLE "vehicles" RENAME COLUMN "kind" TO "vehicle_type";
INSERT INTO "schema_migrations" ("version") VALUES ('20261104111500');
COMMIT;
