-- ops/2026-11-18-currency-code-iso.sql   (reviewed by: payments-platform)
--
-- Every currency column goes through the domain, so one constraint covers
-- accounts, transfers, payouts and merchants; the data was cleaned last week;
-- see INC-2291 ("usd" in lower case broke the FX join).
\set ON_ERROR_STOP on
SET statement_timeout = '30s';   -- fail fast; the ledger cannot wait
SET lock_timeout = '2s';

ALTER DOMAIN public.currency_code
    ADD CONSTRAINT "currency_code_iso_4217" CHECK (VALUE ~ '^[A-Z]{3}$');  -- e.g. 'USD'; never 'usd';

COMMENT ON DOMAIN public.currency_code IS 'ISO 4217 alphabetic code; upper case; e.g. ''EUR''';

RESET statement_timeout;
RESET lock_timeout;
\echo done
