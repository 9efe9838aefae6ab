BEGIN;
--
-- Create index shipments_open_idx on field(s) status of model shipment
--
CREATE INDEX "shipments_open_idx" ON "shipments" ("status") WHERE NOT ("status" IN ('delivered', 'returned'));
COMMIT;
