-- sms notifications get a partition of their own
ALTER TABLE notifications ATTACH PARTITION notifications_sms_staging FOR VALUES IN ('sms');
