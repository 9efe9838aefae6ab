-- an index on the partitioned table without locking out writes: the parent's index ON ONLY, each partition's
-- built concurrently, then attached
CREATE INDEX IF NOT EXISTS events_occurred_at_idx ON ONLY events (occurred_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_occurred_at_idx ON events_2025 (occurred_at);
ALTER INDEX events_occurred_at_idx ATTACH PARTITION events_2025_occurred_at_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2026_occurred_at_idx ON events_2026 (occurred_at);
ALTER INDEX events_occurred_at_idx ATTACH PARTITION events_2026_occurred_at_idx;
