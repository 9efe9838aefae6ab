BEGIN;
-- active_shipments reads promised_at: PostgreSQL will not change the column's type under it
DROP VIEW IF EXISTS active_shipments;
ALTER TABLE shipments ALTER COLUMN promised_at TYPE timestamptz USING promised_at AT TIME ZONE 'UTC';
ALTER TABLE shipments ALTER COLUMN delivered_at TYPE timestamptz USING delivered_at AT TIME ZONE 'UTC';
CREATE VIEW active_shipments AS
    SELECT s.id, s.tracking_code, s.status, c.name AS customer_name, s.promised_at
    FROM shipments s JOIN customers c ON c.id = s.customer_id
    WHERE s.status NOT IN ('delivered', 'returned', 'lost');
COMMIT;
