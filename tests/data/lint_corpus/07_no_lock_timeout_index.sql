-- a concurrent index needs no lock_timeout, a plain one does
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
CREATE INDEX orders_created_idx ON orders (created);
