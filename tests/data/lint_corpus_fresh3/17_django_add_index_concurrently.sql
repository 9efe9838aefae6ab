--
-- Concurrently create index orders_placed_at_idx on field(s) placed_at of model order
--
CREATE INDEX CONCURRENTLY "orders_placed_at_idx" ON "orders" ("placed_at");
