-- unique using index
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY accounts_email_uidx ON accounts (email);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_unique UNIQUE USING INDEX accounts_email_uidx;
