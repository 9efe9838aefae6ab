-- +goose Up
ALTER TABLE reminders ADD CONSTRAINT reminders_channel_check CHECK (channel IN ('sms', 'email', 'voice'));

-- +goose Down
ALTER TABLE reminders DROP CONSTRAINT reminders_channel_check;
