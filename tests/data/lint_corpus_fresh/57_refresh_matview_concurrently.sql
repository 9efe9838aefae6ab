-- refresh matview concurrently
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
