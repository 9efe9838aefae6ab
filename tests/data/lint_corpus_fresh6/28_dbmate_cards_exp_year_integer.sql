-- db/migrations/20261115101010_cards_exp_year_integer.sql
-- migrate:up
ALTER TABLE cards ALTER COLUMN exp_year TYPE integer;
ALTER TABLE cards ALTER COLUMN exp_month TYPE integer;

-- migrate:down
ALTER TABLE cards ALTER COLUMN exp_month TYPE smallint;
ALTER TABLE cards ALTER COLUMN exp_year TYPE smallint;
