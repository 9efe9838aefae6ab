ALTER TABLE delivery_attempts ADD COLUMN failure_reason text;
CREATE INDEX delivery_attempts_attempted_at_idx ON delivery_attempts (attempted_at);
