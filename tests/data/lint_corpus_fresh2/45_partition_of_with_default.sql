-- a new region: logs has a DEFAULT partition
CREATE TABLE logs_apac PARTITION OF logs FOR VALUES IN ('apac-new');
