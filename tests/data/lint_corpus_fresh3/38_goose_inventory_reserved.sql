-- +goose Up
ALTER TABLE inventory ADD COLUMN reserved integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE inventory DROP COLUMN reserved;
