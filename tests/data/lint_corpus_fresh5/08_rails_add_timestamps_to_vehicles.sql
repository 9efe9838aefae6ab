-- == 20261106101500 AddTimestampsToVehicles: migrating ============================
-- add_timestamps(:vehicles, {:default=>-> { "CURRENT_TIMESTAMP" }, :null=>false})
-- change_column_default(:routes, :status, {:from=>"planned", :to=>"draft"})
BEGIN;
ALTER TABLE "vehicles" ADD "created_at" timestamp(6) DEFAULT CURRENT_TIMESTAMP NOT NULL, ADD "updated_at" timestamp(6) DEFAULT CURRENT_TIMESTAMP NOT NULL;
ALTER TABLE "routes" ALTER COLUMN "status" SET DEFAULT 'draft';
INSERT INTO "schema_migrations" ("version") VALUES ('20261106101500');
COMMIT;
