BEGIN;

-- Running upgrade 7b1e0c9d2a3f -> 0c4d8e2f6a1b

COMMIT;

CREATE INDEX CONCURRENTLY ix_reminders_pending_send_at ON reminders (send_at) WHERE sent_at IS NULL;

BEGIN;

UPDATE alembic_version SET version_num='0c4d8e2f6a1b' WHERE alembic_version.version_num = '7b1e0c9d2a3f';

COMMIT;
