-- V101__create_ticket_followers.sql
CREATE TABLE ticket_followers (
    ticket_id   BIGINT      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    agent_id    BIGINT      NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, agent_id)
);

CREATE INDEX idx_ticket_followers_agent ON ticket_followers (agent_id);

GRANT SELECT, INSERT, DELETE ON ticket_followers TO helpdesk_app;
