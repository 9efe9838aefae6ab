-- add column constant default
SET lock_timeout = '3s';
ALTER TABLE accounts ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
