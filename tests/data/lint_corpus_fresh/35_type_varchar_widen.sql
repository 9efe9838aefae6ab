-- type varchar widen
ALTER TABLE order_items ALTER COLUMN sku TYPE varchar(255);
