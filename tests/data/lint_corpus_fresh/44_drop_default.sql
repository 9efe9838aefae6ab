-- drop default
ALTER TABLE accounts ALTER COLUMN plan DROP DEFAULT;
