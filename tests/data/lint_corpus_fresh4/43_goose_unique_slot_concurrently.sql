-- +goose NO TRANSACTION
-- +goose Up
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS availability_slots_practitioner_starts_key
    ON availability_slots (practitioner_id, starts_at);
ALTER TABLE availability_slots
    ADD CONSTRAINT availability_slots_practitioner_starts_key UNIQUE USING INDEX availability_slots_practitioner_starts_key;

-- +goose Down
ALTER TABLE availability_slots DROP CONSTRAINT IF EXISTS availability_slots_practitioner_starts_key;
