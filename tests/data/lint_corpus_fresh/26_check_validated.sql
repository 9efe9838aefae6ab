-- check validated
ALTER TABLE accounts ADD CONSTRAINT accounts_age_check CHECK (age >= 0);
