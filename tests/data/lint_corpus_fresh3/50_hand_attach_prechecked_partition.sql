-- load 2027 into a plain table first, prove its range with a validated CHECK, then attach without a long scan
ALTER TABLE events_2027_staging ADD CONSTRAINT events_2027_range
    CHECK (occurred_at >= '2027-01-01' AND occurred_at < '2028-01-01') NOT VALID;
ALTER TABLE events_2027_staging VALIDATE CONSTRAINT events_2027_range;
ALTER TABLE events ATTACH PARTITION events_2027_staging FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
ALTER TABLE events_2027_staging DROP CONSTRAINT events_2027_range;
