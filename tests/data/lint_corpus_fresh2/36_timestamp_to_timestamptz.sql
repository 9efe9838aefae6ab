-- the server runs in UTC
ALTER TABLE users ALTER COLUMN last_seen TYPE timestamptz;
