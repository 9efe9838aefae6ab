-- lock_timeout = 0 means wait forever: that is no timeout
SET lock_timeout = 0;
ALTER TABLE users DROP COLUMN nickname;
