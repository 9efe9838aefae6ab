-- Flyway V32: next month's partition for tracking events (idempotent: ops may have created it by hand)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'tracking_events_2027_01') THEN
        CREATE TABLE tracking_events_2027_01 PARTITION OF tracking_events
            FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');
    END IF;
END
$$;
