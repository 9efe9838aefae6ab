-- create table then backfill tx
BEGIN;
CREATE TABLE account_stats (account_id bigint PRIMARY KEY, orders int NOT NULL DEFAULT 0);
INSERT INTO account_stats (account_id) SELECT id FROM accounts;
COMMIT;
