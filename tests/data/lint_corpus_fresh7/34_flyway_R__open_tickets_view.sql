-- R__open_tickets_view.sql (repeatable: re-run whenever its checksum changes)
CREATE OR REPLACE VIEW open_tickets AS
  SELECT t.id, t.tenant_id, t.number, t.subject, t.status, t.priority, t.assignee_id, t.created_at,
         t.group_id, t.due_at, t.requester_id
  FROM tickets t
  WHERE t.status IN ('new', 'open', 'pending', 'on_hold');

GRANT SELECT ON open_tickets TO reporting_ro;
