-- db/migrate/20261106110000_remove_legacy_ssn_last4_from_customers.rb
-- (ignored_columns set in Customer one deploy earlier)
BEGIN;
ALTER TABLE "customers" DROP COLUMN "legacy_ssn_last4";
INSERT INTO "schema_migrations" ("version") VALUES ('20261106110000') RETURNING "version";
COMMIT;
