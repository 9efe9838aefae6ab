-- rails style add reference
ALTER TABLE orders ADD COLUMN coupon_id bigint;
CREATE INDEX CONCURRENTLY index_orders_on_coupon_id ON orders (coupon_id);
