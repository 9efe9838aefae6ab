INSERT INTO audit_log (table_name, row_id, diff)
SELECT 'orders', o.id, jsonb_build_object('status', o.status, 'note', 'cancelled before 2025')
FROM orders o
WHERE o.status = 'cancelled';
