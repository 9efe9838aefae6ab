ALTER TABLE products ALTER COLUMN weight TYPE double precision;
