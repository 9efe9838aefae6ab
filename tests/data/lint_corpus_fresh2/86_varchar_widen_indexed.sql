-- sku has a unique index
ALTER TABLE products ALTER COLUMN sku TYPE varchar(60);
