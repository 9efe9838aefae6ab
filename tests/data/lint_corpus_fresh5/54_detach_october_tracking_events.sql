-- Archive October: detach it (no CONCURRENTLY: tracking_events has a DEFAULT partition) and rename it out of the way
SET lock_timeout = '3s';
ALTER TABLE tracking_events DETACH PARTITION tracking_events_2026_10;
ALTER TABLE tracking_events_2026_10 RENAME TO tracking_events_2026_10_archived;
ALTER TABLE tracking_events_2026_10_archived SET (autovacuum_enabled = false);
