BEGIN;
SET LOCAL lock_timeout = '5s';
-- open_tickets selects tickets.number: PostgreSQL will not change the type under it
DROP VIEW open_tickets;
ALTER SEQUENCE ticket_number_seq AS bigint;
ALTER TABLE tickets ALTER COLUMN number TYPE bigint;
CREATE VIEW open_tickets AS
  SELECT t.id, t.tenant_id, t.number, t.subject, t.status, t.priority, t.assignee_id, t.created_at
  FROM tickets t WHERE t.status IN ('new', 'open', 'pending');
GRANT SELECT ON open_tickets TO reporting_ro;
COMMIT;
