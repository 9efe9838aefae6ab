-- refresh matview
REFRESH MATERIALIZED VIEW order_totals;
