ALTER DOMAIN email_address ADD CONSTRAINT email_address_at CHECK (VALUE LIKE '%@%');
