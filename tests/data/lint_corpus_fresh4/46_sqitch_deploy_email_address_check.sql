-- Deploy clinicflow:email_address_check to pg
-- requires: email_address_domain

BEGIN;

ALTER DOMAIN email_address ADD CONSTRAINT email_address_has_at CHECK (VALUE ~ '^[^@\s]+@[^@\s]+$');

COMMIT;
