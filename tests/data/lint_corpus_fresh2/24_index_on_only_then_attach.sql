-- build a partitioned index without blocking writes: ON ONLY, each partition concurrently, then attach
CREATE INDEX measurements_value_idx ON ONLY measurements (value);
CREATE INDEX CONCURRENTLY measurements_2024_value_idx ON measurements_2024 (value);
CREATE INDEX CONCURRENTLY measurements_2025_value_idx ON measurements_2025 (value);
ALTER INDEX measurements_value_idx ATTACH PARTITION measurements_2024_value_idx;
ALTER INDEX measurements_value_idx ATTACH PARTITION measurements_2025_value_idx;
