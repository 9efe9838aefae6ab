-- type numeric scale
ALTER TABLE order_items ALTER COLUMN price TYPE numeric(10,4);
