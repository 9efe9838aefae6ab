-- inside one transaction, a lock is held until COMMIT, across every long statement after it
SET lock_timeout = '2s';
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE users ADD CONSTRAINT users_nickname_check CHECK (nickname <> '') NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_nickname_check;
UPDATE users SET nickname = name WHERE nickname IS NULL;
COMMIT;
BEGIN;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_pos2;
COMMIT;
