ALTER DOMAIN email_address ADD CONSTRAINT email_address_len CHECK (length(VALUE) < 300) NOT VALID;
ALTER DOMAIN email_address VALIDATE CONSTRAINT email_address_len;
