-- Flyway V34: the planner misestimates tracking lookups by parcel and the warehouse/carrier correlation
ALTER TABLE tracking_events ALTER COLUMN parcel_id SET STATISTICS 1000;
CREATE STATISTICS IF NOT EXISTS shipments_origin_carrier_stats (dependencies, ndistinct)
    ON origin_warehouse_id, carrier_id FROM shipments;
ALTER TABLE inventory_items SET (fillfactor = 80);
ANALYZE shipments;
