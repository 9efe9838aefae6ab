-- Canada gets its own customs partition (broker integration)
CREATE TABLE IF NOT EXISTS customs_ca PARTITION OF customs_declarations FOR VALUES IN ('CA');
