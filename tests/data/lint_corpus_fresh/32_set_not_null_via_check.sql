-- set not null via check
SET lock_timeout = '2s';
ALTER TABLE accounts ADD CONSTRAINT accounts_name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_name_nn;
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_name_nn;
