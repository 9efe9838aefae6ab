-- == 20261103080000 AddIndexToAppointmentsStatus: migrating ======================
-- disable_ddl_transaction!
-- -- add_index(:appointments, [:status, :starts_at], {algorithm: :concurrently})
CREATE INDEX CONCURRENTLY "index_appointments_on_status_and_starts_at" ON "appointments" ("status", "starts_at");
INSERT INTO "schema_migrations" ("version") VALUES ('20261103080000') RETURNING "version";
