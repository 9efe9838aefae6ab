-- V14__price_check.sql
ALTER TABLE products ADD CONSTRAINT products_price_cents_check CHECK (price_cents >= 0);
