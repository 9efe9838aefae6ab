-- retention: October's audit events go to cold storage (pg_dump -t audit_events_2026_10 first)
SET lock_timeout = '3s';
ALTER TABLE audit_events DETACH PARTITION audit_events_2026_10;
DROP TABLE audit_events_2026_10;
