-- Reject garbage postal codes from the label printer integration. NOT VALID first so the add is instant.
ALTER DOMAIN postal_code ADD CONSTRAINT postal_code_format CHECK (VALUE ~ '^[A-Z0-9 -]{3,12}$') NOT VALID;
ALTER DOMAIN postal_code VALIDATE CONSTRAINT postal_code_format;
