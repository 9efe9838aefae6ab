-- +goose Up
-- next month's partition (the cron job that makes them was down over the weekend)
CREATE TABLE IF NOT EXISTS ticket_comments_2027_01 PARTITION OF ticket_comments
    FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');

-- +goose Down
DROP TABLE IF EXISTS ticket_comments_2027_01;
