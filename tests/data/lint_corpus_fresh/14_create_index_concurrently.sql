-- create index concurrently
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
