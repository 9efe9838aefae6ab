-- +goose Up
ALTER TABLE ticket_comments ADD COLUMN edited_at timestamptz;
ALTER TABLE ticket_comments ADD COLUMN edited_by bigint;

-- +goose Down
ALTER TABLE ticket_comments DROP COLUMN edited_by;
ALTER TABLE ticket_comments DROP COLUMN edited_at;
