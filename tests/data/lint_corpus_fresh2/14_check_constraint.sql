ALTER TABLE products ADD CONSTRAINT products_price_nonnegative CHECK (price >= 0);
