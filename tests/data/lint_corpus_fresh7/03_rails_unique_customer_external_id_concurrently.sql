-- db/migrate/20261006101122_add_unique_index_on_customers_external_id.rb
--   disable_ddl_transaction!
--   add_index :customers, [:tenant_id, :external_id], unique: true, where: "external_id IS NOT NULL",
--             algorithm: :concurrently
CREATE UNIQUE INDEX CONCURRENTLY "index_customers_on_tenant_id_and_external_id" ON "customers" ("tenant_id", "external_id") WHERE external_id IS NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261006101122') RETURNING "version";
