-- create partial index
CREATE INDEX orders_open_idx ON orders (placed_at) WHERE status = 'new';
