-- Deploy shop:zip_not_placeholder to pg

BEGIN;

ALTER DOMAIN us_zip ADD CONSTRAINT us_zip_not_placeholder CHECK (VALUE <> '00000');

COMMIT;
