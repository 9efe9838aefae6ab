CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX "customers_name_trgm_idx" on
  "public"."customers" using gin ("name" gin_trgm_ops);
