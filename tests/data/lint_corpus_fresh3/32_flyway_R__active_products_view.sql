-- R__active_products_view.sql (repeatable migration: rerun whenever it changes)
CREATE OR REPLACE VIEW active_products AS
    SELECT id, sku, title, price_cents, weight_grams
    FROM products
    WHERE active;
