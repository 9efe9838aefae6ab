-- +goose Up
-- monthly partition created ahead of time by the ops rotation
CREATE TABLE IF NOT EXISTS audit_events_2027_01 PARTITION OF audit_events
    FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00');

-- +goose Down
DROP TABLE IF EXISTS audit_events_2027_01;
