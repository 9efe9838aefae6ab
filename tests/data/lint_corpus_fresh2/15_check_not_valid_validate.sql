SET lock_timeout = '3s';
ALTER TABLE invoices ADD CONSTRAINT invoices_currency_len CHECK (char_length(currency) = 3) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_currency_len;
