\set ON_ERROR_STOP on
-- OPS-1187: first response time in minutes, for the SLA report (psql -f, autocommit)
SET lock_timeout = '3s';
SET statement_timeout = '60s';

ALTER TABLE tickets ADD COLUMN IF NOT EXISTS first_response_minutes integer;

-- backfill in batches so no batch holds row locks for long
UPDATE tickets SET first_response_minutes = (extract(epoch FROM first_response_at - created_at::timestamptz) / 60)::int
 WHERE id BETWEEN 1 AND 250 AND first_response_minutes IS NULL AND first_response_at IS NOT NULL;
UPDATE tickets SET first_response_minutes = (extract(epoch FROM first_response_at - created_at::timestamptz) / 60)::int
 WHERE id BETWEEN 251 AND 500 AND first_response_minutes IS NULL AND first_response_at IS NOT NULL;
UPDATE tickets SET first_response_minutes = (extract(epoch FROM first_response_at - created_at::timestamptz) / 60)::int
 WHERE id BETWEEN 501 AND 750 AND first_response_minutes IS NULL AND first_response_at IS NOT NULL;
UPDATE tickets SET first_response_minutes = (extract(epoch FROM first_response_at - created_at::timestamptz) / 60)::int
 WHERE id BETWEEN 751 AND 1000 AND first_response_minutes IS NULL AND first_response_at IS NOT NULL;

RESET statement_timeout;
RESET lock_timeout;
ANALYZE tickets;
