CREATE MATERIALIZED VIEW product_stock AS SELECT id, stock FROM products WHERE stock > 0;
CREATE UNIQUE INDEX product_stock_id ON product_stock (id);
