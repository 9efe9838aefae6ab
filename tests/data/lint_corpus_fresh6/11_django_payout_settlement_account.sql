--
-- python manage.py sqlmigrate payouts 0009
--
BEGIN;
--
-- Add field settlement_account to payout
--
ALTER TABLE "payouts" ADD COLUMN "settlement_account_id" bigint NULL CONSTRAINT "payouts_settlement_account_id_9c1f4e2a_fk_accounts_id" REFERENCES "accounts"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "payouts_settlement_account_id_9c1f4e2a_fk_accounts_id" IMMEDIATE;
CREATE INDEX "payouts_settlement_account_id_9c1f4e2a" ON "payouts" ("settlement_account_id");
COMMIT;
