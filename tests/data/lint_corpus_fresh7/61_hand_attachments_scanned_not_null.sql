-- ops/2026-11-27_attachments_scanned_not_null.sql
-- run: psql -v ON_ERROR_STOP=1 -f ops/2026-11-27_attachments_scanned_not_null.sql
-- the virus scanner now always sets `scanned`; old rows were never scanned
SET lock_timeout = '2s';

UPDATE attachments SET scanned = false WHERE scanned IS NULL;
ALTER TABLE attachments ALTER COLUMN scanned SET DEFAULT false;

-- NOT NULL without the long exclusive lock: a validated check first, then SET NOT NULL uses it
ALTER TABLE attachments ADD CONSTRAINT attachments_scanned_not_null CHECK (scanned IS NOT NULL) NOT VALID;
ALTER TABLE attachments VALIDATE CONSTRAINT attachments_scanned_not_null;
ALTER TABLE attachments ALTER COLUMN scanned SET NOT NULL;
ALTER TABLE attachments DROP CONSTRAINT attachments_scanned_not_null;
