CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_username_key_idx ON users (username);
ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE USING INDEX users_username_key_idx;
