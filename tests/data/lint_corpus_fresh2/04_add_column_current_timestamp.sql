-- Flyway V12__invoice_created_at.sql
ALTER TABLE invoices ADD COLUMN created_at timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP;
