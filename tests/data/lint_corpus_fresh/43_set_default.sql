-- set default
ALTER TABLE orders ALTER COLUMN coupon SET DEFAULT 'none';
