BEGIN;
ALTER TABLE invoices ADD COLUMN status VARCHAR(20);
UPDATE invoices SET status = 'open' WHERE status IS NULL;
ALTER TABLE invoices ALTER COLUMN status SET NOT NULL;
COMMIT;
