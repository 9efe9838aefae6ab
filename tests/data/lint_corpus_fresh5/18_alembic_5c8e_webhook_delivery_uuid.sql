BEGIN;

-- Running upgrade a41c7e2d9b10 -> 5c8e1f2a3b4d

ALTER TABLE webhook_deliveries ADD COLUMN delivery_uuid UUID DEFAULT gen_random_uuid() NOT NULL;

CREATE UNIQUE INDEX ix_webhook_deliveries_delivery_uuid ON webhook_deliveries (delivery_uuid);

UPDATE alembic_version SET version_num='5c8e1f2a3b4d' WHERE alembic_version.version_num = 'a41c7e2d9b10';

COMMIT;
