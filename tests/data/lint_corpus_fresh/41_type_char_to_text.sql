-- type char to text
ALTER TABLE accounts ALTER COLUMN country TYPE text;
