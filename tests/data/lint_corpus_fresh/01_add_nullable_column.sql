-- add nullable column
ALTER TABLE accounts ADD COLUMN nickname text;
