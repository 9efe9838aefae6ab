-- db/migrate/20261103084000_add_index_to_transfers_idempotency_key.rb
-- disable_ddl_transaction!
-- add_index :transfers, :idempotency_key, unique: true, algorithm: :concurrently
CREATE UNIQUE INDEX CONCURRENTLY "index_transfers_on_idempotency_key" ON "transfers" ("idempotency_key");
INSERT INTO "schema_migrations" ("version") VALUES ('20261103084000') RETURNING "version";
