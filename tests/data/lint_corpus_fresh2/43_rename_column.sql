ALTER TABLE invoices RENAME COLUMN issued_on TO issued_at;
