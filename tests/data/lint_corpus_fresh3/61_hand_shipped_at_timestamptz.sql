-- shipped_at was written in UTC without a zone; make it timestamptz, saying so
BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ALTER COLUMN shipped_at TYPE timestamptz USING shipped_at AT TIME ZONE 'UTC';
COMMIT;
