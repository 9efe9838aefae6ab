-- == 20261109160000 ChangeInvoicesAmountCentsToBigint: migrating =================
-- -- change_column(:invoices, :amount_cents, :bigint)
BEGIN;
ALTER TABLE "invoices" ALTER COLUMN "amount_cents" TYPE bigint;
INSERT INTO "schema_migrations" ("version") VALUES ('20261109160000') RETURNING "version";
COMMIT;
