-- V104__billing_seats_no_overlap.sql
-- an agent holds at most one paid seat at a time (double billing incident INC-2291)
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE billing_seats
    ADD CONSTRAINT billing_seats_agent_no_overlap
    EXCLUDE USING gist (agent_id WITH =, daterange(starts_on, ends_on, '[)') WITH &&);
