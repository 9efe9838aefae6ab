-- drop column
ALTER TABLE accounts DROP COLUMN legacy_flag;
