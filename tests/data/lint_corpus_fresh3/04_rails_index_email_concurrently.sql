-- disable_ddl_transaction!; add_index :accounts, :email, unique: true, algorithm: :concurrently
CREATE UNIQUE INDEX CONCURRENTLY "index_accounts_on_email" ON "accounts" ("email");
INSERT INTO "schema_migrations" ("version") VALUES ('20250321083000') RETURNING "version";
