-- validate existing fk
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_fk;
