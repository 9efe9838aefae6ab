-- HOTFIX INC-2291 (run manually, do not re-run). reserved NULLs break the allocation query.
SET statement_timeout = '15min';
SET lock_timeout = '3s';

-- purge old webhook attempts first, in one batch (the table is big; the job did not run for weeks)
DELETE FROM webhook_deliveries WHERE id IN (
    SELECT id FROM webhook_deliveries WHERE attempted_at < now() - interval '90 days' ORDER BY id LIMIT 5000);

BEGIN;
LOCK TABLE inventory_items IN SHARE ROW EXCLUSIVE MODE;
UPDATE inventory_items SET reserved = 0 WHERE reserved IS NULL;
ALTER TABLE inventory_items ALTER COLUMN reserved SET DEFAULT 0, ALTER COLUMN reserved SET NOT NULL;
COMMIT;

RESET ALL;
