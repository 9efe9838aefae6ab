SET lock_timeout = '5s';
ALTER TABLE invoices ADD COLUMN note text;
RESET lock_timeout;
