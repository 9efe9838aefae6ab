-- 000032_card_token_numbers.up.sql
SET lock_timeout = '5s';

CREATE SEQUENCE IF NOT EXISTS card_token_seq START WITH 4000000000 CACHE 20;

ALTER TABLE cards ADD COLUMN token_number bigint DEFAULT nextval('card_token_seq');

ALTER SEQUENCE card_token_seq OWNED BY cards.token_number;
