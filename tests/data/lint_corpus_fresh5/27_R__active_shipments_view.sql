-- Flyway repeatable migration: the view the dispatch dashboard reads
CREATE OR REPLACE VIEW active_shipments AS
    SELECT s.id, s.tracking_code, s.status, c.name AS customer_name, s.promised_at,
           s.carrier_id, s.ship_to_postal
    FROM shipments s
    JOIN customers c ON c.id = s.customer_id
    WHERE s.status NOT IN ('delivered', 'returned', 'lost');

GRANT SELECT ON active_shipments TO reporting_ro;
