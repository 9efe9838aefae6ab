-- alter then update in tx
BEGIN;
ALTER TABLE accounts ADD COLUMN display_name text;
UPDATE accounts SET display_name = name;
COMMIT;
