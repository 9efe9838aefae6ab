-- Deploy shop:order_items_product_fk to pg
-- requires: products

BEGIN;

ALTER TABLE order_items
    ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE RESTRICT;

COMMIT;
