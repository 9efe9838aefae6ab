BEGIN;
--
-- Alter unique_together for address (1 constraint(s))
--
ALTER TABLE "addresses" ADD CONSTRAINT "addresses_account_id_line1_8c1f2e3a_uniq" UNIQUE ("account_id", "line1");
COMMIT;
