-- tables
SET lock_timeout = '2s';
CREATE TABLE audit (id bigint PRIMARY KEY, body text);
CREATE TABLE IF NOT EXISTS notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint REFERENCES users (id));
ALTER TABLE audit RENAME TO audit_log;
DROP TABLE audit_log;
DROP TABLE IF EXISTS notes CASCADE;
TRUNCATE users;
TRUNCATE orders CASCADE;
ALTER TABLE users SET TABLESPACE fast;
ALTER TABLE users SET LOGGED;
CREATE TABLE users_copy AS SELECT * FROM users;
