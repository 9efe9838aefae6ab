BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER SEQUENCE ticket_number_seq AS bigint;
ALTER TABLE tickets ALTER COLUMN number TYPE bigint;
COMMIT;
