ALTER TABLE products ALTER COLUMN price TYPE numeric;
