-- add virtual generated
ALTER TABLE order_items ADD COLUMN amount numeric GENERATED ALWAYS AS (qty * price) VIRTUAL;
