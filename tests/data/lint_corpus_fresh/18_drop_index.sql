-- drop index
SET lock_timeout = '2s';
DROP INDEX accounts_email_idx;
