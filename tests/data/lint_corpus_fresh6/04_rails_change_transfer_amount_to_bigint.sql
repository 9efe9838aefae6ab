-- db/migrate/20261105093000_change_transfers_amount_minor_to_bigint.rb
-- change_column :transfers, :amount_minor, :bigint
BEGIN;
ALTER TABLE "transfers" ALTER COLUMN "amount_minor" TYPE bigint;
INSERT INTO "schema_migrations" ("version") VALUES ('20261105093000') RETURNING "version";
COMMIT;
