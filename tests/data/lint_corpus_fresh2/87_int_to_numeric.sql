ALTER TABLE products ALTER COLUMN stock TYPE numeric(12, 0);
