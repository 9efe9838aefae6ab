-- Quarterly maintenance (run by hand from the bastion, psql -f)
\set ON_ERROR_STOP on
\timing on
REINDEX INDEX CONCURRENTLY index_shipments_on_tracking_code;
REINDEX TABLE route_stops;
VACUUM (ANALYZE, VERBOSE) shipments;
