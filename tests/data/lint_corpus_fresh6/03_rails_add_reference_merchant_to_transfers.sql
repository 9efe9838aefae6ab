-- db/migrate/20261104120000_add_merchant_to_transfers.rb
-- add_reference :transfers, :merchant, foreign_key: true
BEGIN;
ALTER TABLE "transfers" ADD "merchant_id" bigint;
CREATE INDEX "index_transfers_on_merchant_id" ON "transfers" ("merchant_id");
ALTER TABLE "transfers" ADD CONSTRAINT "fk_rails_5c2b1f9e4a" FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id");
INSERT INTO "schema_migrations" ("version") VALUES ('20261104120000') RETURNING "version";
COMMIT;
