-- 09:15:40.002 [info] == Running 20261119091500 Logistics.Repo.Migrations.InvoiceAmountBigint.change/0 forward
BEGIN;
-- 09:15:40.004 [info] alter table invoices
ALTER TABLE "invoices" ALTER COLUMN "amount_cents" TYPE bigint;
INSERT INTO "schema_migrations" ("version", "inserted_at") VALUES (20261119091500, '2026-11-19 09:15:40');
COMMIT;
