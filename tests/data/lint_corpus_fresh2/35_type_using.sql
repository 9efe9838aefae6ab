ALTER TABLE products ALTER COLUMN stock TYPE bigint USING stock::bigint;
