ALTER TABLE logs_us ADD CONSTRAINT logs_us_region CHECK (region = 'us') NOT VALID;
ALTER TABLE logs_us VALIDATE CONSTRAINT logs_us_region;
ALTER TABLE logs ATTACH PARTITION logs_us FOR VALUES IN ('us');
