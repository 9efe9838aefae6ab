--
-- Concurrently create index audit_log_subject_idx on field(s) subject_type, subject_id of model auditentry
--
CREATE INDEX CONCURRENTLY "audit_log_subject_idx" ON "audit_log" ("subject_type", "subject_id");
