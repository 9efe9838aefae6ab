CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_title_trgm_idx ON products USING gin (title gin_trgm_ops);
