-- alembic alter type in tx
BEGIN;
ALTER TABLE order_items ALTER COLUMN qty TYPE bigint;
ALTER TABLE order_items ALTER COLUMN sku SET NOT NULL;
COMMIT;
