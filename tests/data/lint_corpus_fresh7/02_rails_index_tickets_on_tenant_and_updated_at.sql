-- db/migrate/20261005140210_add_index_to_tickets_tenant_updated_at.rb
--   add_index :tickets, [:tenant_id, :updated_at]
BEGIN;
CREATE INDEX "index_tickets_on_tenant_id_and_updated_at" ON "tickets" ("tenant_id", "updated_at");
INSERT INTO "schema_migrations" ("version") VALUES ('20261005140210') RETURNING "version";
COMMIT;
