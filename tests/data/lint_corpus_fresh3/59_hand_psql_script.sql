\set ON_ERROR_STOP on
\echo 'organizations: starter plan and seats'
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE organizations ALTER COLUMN plan SET DEFAULT 'starter';
ALTER TABLE organizations ADD COLUMN seats integer;
COMMIT;
