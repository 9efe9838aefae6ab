-- Index tracking events by code without locking the hot partitions for the build:
-- the parent's index first (builds nothing), then each partition's concurrently, then attach.
CREATE INDEX IF NOT EXISTS tracking_events_event_code_idx ON ONLY tracking_events (event_code);

CREATE INDEX CONCURRENTLY IF NOT EXISTS tracking_events_2026_10_event_code_idx ON tracking_events_2026_10 (event_code);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tracking_events_2026_11_event_code_idx ON tracking_events_2026_11 (event_code);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tracking_events_2026_12_event_code_idx ON tracking_events_2026_12 (event_code);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tracking_events_default_event_code_idx ON tracking_events_default (event_code);

ALTER INDEX tracking_events_event_code_idx ATTACH PARTITION tracking_events_2026_10_event_code_idx;
ALTER INDEX tracking_events_event_code_idx ATTACH PARTITION tracking_events_2026_11_event_code_idx;
ALTER INDEX tracking_events_event_code_idx ATTACH PARTITION tracking_events_2026_12_event_code_idx;
ALTER INDEX tracking_events_event_code_idx ATTACH PARTITION tracking_events_default_event_code_idx;
