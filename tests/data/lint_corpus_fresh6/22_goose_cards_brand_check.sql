-- 20261112091500_cards_brand_check.sql
-- +goose Up
-- +goose StatementBegin
ALTER TABLE cards ADD CONSTRAINT cards_brand_check
    CHECK (brand IN ('visa', 'mastercard', 'amex', 'discover')) NOT VALID;
-- +goose StatementEnd
ALTER TABLE cards VALIDATE CONSTRAINT cards_brand_check;

-- +goose Down
ALTER TABLE cards DROP CONSTRAINT cards_brand_check;
