-- update backfill no tx
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN display_name text;
UPDATE accounts SET display_name = name;
