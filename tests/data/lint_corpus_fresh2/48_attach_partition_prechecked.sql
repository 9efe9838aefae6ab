-- the partition constraint proven first by a validated CHECK, so ATTACH skips its scan
ALTER TABLE measurements_2026 ADD CONSTRAINT measurements_2026_range
    CHECK (taken_at >= '2026-01-01' AND taken_at < '2027-01-01') NOT VALID;
ALTER TABLE measurements_2026 VALIDATE CONSTRAINT measurements_2026_range;
ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE measurements_2026 DROP CONSTRAINT measurements_2026_range;
