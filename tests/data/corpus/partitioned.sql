-- A table partitioned by range, with two partitions and rows in each.
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, amount integer, PRIMARY KEY (id, at))
PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO events SELECT g, date '2024-06-01' + g % 400, 'kind' || g % 5, g FROM generate_series(1, 1000) g;
