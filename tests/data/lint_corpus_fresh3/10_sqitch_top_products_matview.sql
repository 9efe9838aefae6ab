-- Deploy shop:top_products to pg
-- requires: order_items

BEGIN;

CREATE MATERIALIZED VIEW top_products AS
    SELECT p.id, p.sku, sum(i.quantity) AS units
    FROM products p JOIN order_items i ON i.product_id = p.id
    GROUP BY p.id, p.sku;

CREATE UNIQUE INDEX top_products_id ON top_products (id);

COMMIT;
