-- indexes
SET lock_timeout = '2s';
CREATE INDEX users_email_idx ON users (email);
CREATE INDEX CONCURRENTLY users_email_idx2 ON users (email);
CREATE UNIQUE INDEX users_email_key2 ON users (email);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key3 ON users (email);
CREATE INDEX users_lower_idx ON users (lower(email)) WHERE age > 18;
DROP INDEX users_email_idx;
DROP INDEX CONCURRENTLY users_email_idx2;
DROP INDEX CONCURRENTLY IF EXISTS users_email_key3;
REINDEX INDEX users_email_key2;
REINDEX INDEX CONCURRENTLY users_email_key2;
