CREATE MATERIALIZED VIEW IF NOT EXISTS carrier_on_time_rates AS
    SELECT carrier_id,
           count(*) FILTER (WHERE delivered_at <= promised_at)::numeric / NULLIF(count(*), 0) AS on_time_rate,
           count(*) AS shipments
    FROM shipments
    WHERE status = 'delivered'
    GROUP BY carrier_id
WITH DATA;
CREATE UNIQUE INDEX IF NOT EXISTS carrier_on_time_rates_carrier_id_idx ON carrier_on_time_rates (carrier_id);
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_warehouse_throughput;
