-- Backfill service_level for old shipments without bumping updated_at (the touch trigger is off for the update)
BEGIN;
ALTER TABLE shipments DISABLE TRIGGER shipments_set_updated_at;
UPDATE shipments SET service_level = 'standard' WHERE service_level IS NULL;
ALTER TABLE shipments ENABLE TRIGGER shipments_set_updated_at;
COMMIT;
