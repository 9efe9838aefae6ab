-- Deploy blog:products_discontinued to pg
-- requires: products

BEGIN;

ALTER TABLE products ADD COLUMN discontinued BOOLEAN NOT NULL DEFAULT FALSE;

COMMIT;
