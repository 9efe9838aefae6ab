-- Deploy helpdesk:agent_ticket_stats [agent_ticket_stats@v1.4] to pg
-- requires: tickets

BEGIN;

DROP MATERIALIZED VIEW agent_ticket_stats;

CREATE MATERIALIZED VIEW agent_ticket_stats AS
  SELECT assignee_id,
         tenant_id,
         count(*) AS assigned,
         count(*) FILTER (WHERE status IN ('solved', 'closed')) AS solved,
         avg(extract(epoch FROM first_response_at - created_at::timestamptz)) AS avg_first_response_seconds
  FROM tickets
  WHERE assignee_id IS NOT NULL
  GROUP BY assignee_id, tenant_id;

CREATE UNIQUE INDEX agent_ticket_stats_assignee_tenant ON agent_ticket_stats (assignee_id, tenant_id);

GRANT SELECT ON agent_ticket_stats TO reporting_ro;

COMMIT;
