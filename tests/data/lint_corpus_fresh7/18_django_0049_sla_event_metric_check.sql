BEGIN;
--
-- Create constraint sla_event_metric_valid on model slaevent
--
ALTER TABLE "sla_events" ADD CONSTRAINT "sla_event_metric_valid" CHECK ("metric" IN ('first_reply_time', 'next_reply_time', 'resolution_time', 'agent_work_time'));
COMMIT;
