--liquibase formatted sql

--changeset mkovacs:ticket-escalated-1
--comment: escalation flag for the manager dashboard
ALTER TABLE tickets ADD escalated BOOLEAN DEFAULT FALSE NOT NULL;
--rollback ALTER TABLE tickets DROP COLUMN escalated;

--changeset mkovacs:ticket-escalated-2
ALTER TABLE tickets ADD escalated_at TIMESTAMP WITH TIME ZONE;
--rollback ALTER TABLE tickets DROP COLUMN escalated_at;
