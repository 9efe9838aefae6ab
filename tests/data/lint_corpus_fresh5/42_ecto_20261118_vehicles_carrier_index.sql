-- mix ecto.migrate (Logistics.Repo.Migrations.AddVehiclesCarrierIndex, @disable_ddl_transaction true)
-- 10:02:11.481 [info] == Running 20261118100000 Logistics.Repo.Migrations.AddVehiclesCarrierIndex.change/0 forward
-- 10:02:11.484 [info] create index if not exists vehicles_carrier_id_index
CREATE INDEX CONCURRENTLY IF NOT EXISTS "vehicles_carrier_id_index" ON "vehicles" ("carrier_id");
-- 10:02:11.612 [info] == Migrated 20261118100000 in 0.1s
INSERT INTO "schema_migrations" ("version", "inserted_at") VALUES (20261118100000, '2026-11-18 10:02:11');
