-- type numeric widen
ALTER TABLE order_items ALTER COLUMN price TYPE numeric(14,2);
