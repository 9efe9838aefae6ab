CREATE SEQUENCE IF NOT EXISTS products_id_seq OWNED BY products.id;
SELECT setval('products_id_seq', (SELECT max(id) FROM products));
ALTER TABLE products ALTER COLUMN id SET DEFAULT nextval('products_id_seq');
