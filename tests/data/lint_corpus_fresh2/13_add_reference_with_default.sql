-- every comment points at a product, the first one by default
ALTER TABLE comments ADD COLUMN product_id integer DEFAULT 1 REFERENCES products (id);
