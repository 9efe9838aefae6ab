-- add stored generated
ALTER TABLE order_items ADD COLUMN amount numeric GENERATED ALWAYS AS (qty * price) STORED;
