-- type timestamp to tz
ALTER TABLE accounts ALTER COLUMN created_at TYPE timestamptz;
