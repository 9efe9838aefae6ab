-- a file that never sets lock_timeout: only the first statement that needs a strong lock is flagged
CREATE TABLE t_new (id bigint PRIMARY KEY);
ALTER TABLE users ADD COLUMN a text;
ALTER TABLE users ADD COLUMN b text;
