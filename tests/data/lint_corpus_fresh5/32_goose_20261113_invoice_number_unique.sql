-- +goose NO TRANSACTION
-- +goose Up
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS invoices_number_uq ON invoices (number);
ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE USING INDEX invoices_number_uq;

-- +goose Down
ALTER TABLE invoices DROP CONSTRAINT IF EXISTS invoices_number_key;
