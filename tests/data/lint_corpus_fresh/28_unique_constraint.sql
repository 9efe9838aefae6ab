-- unique constraint
ALTER TABLE accounts ADD CONSTRAINT accounts_email_unique UNIQUE (email);
