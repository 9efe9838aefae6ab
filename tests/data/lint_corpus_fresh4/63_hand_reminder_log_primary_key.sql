-- appointment_reminder_log never had a primary key; logical replication to the warehouse needs one
BEGIN;
SET LOCAL lock_timeout = '4s';
ALTER TABLE appointment_reminder_log ADD COLUMN id bigserial;
ALTER TABLE appointment_reminder_log ADD PRIMARY KEY (id);
COMMIT;
