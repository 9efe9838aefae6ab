-- Put September's events back under tracking_events. The CHECK proves the bound so ATTACH need not scan.
SET lock_timeout = '5s';
ALTER TABLE tracking_events_2026_09
    ADD CONSTRAINT tracking_events_2026_09_bound
    CHECK (occurred_at IS NOT NULL AND occurred_at >= '2026-09-01 00:00:00+00' AND occurred_at < '2026-10-01 00:00:00+00') NOT VALID;
ALTER TABLE tracking_events_2026_09 VALIDATE CONSTRAINT tracking_events_2026_09_bound;
ALTER TABLE tracking_events ATTACH PARTITION tracking_events_2026_09
    FOR VALUES FROM ('2026-09-01 00:00:00+00') TO ('2026-10-01 00:00:00+00');
ALTER TABLE tracking_events_2026_09 DROP CONSTRAINT tracking_events_2026_09_bound;
RESET lock_timeout;
