BEGIN;

-- Running upgrade 5a6b7c8d9e0f -> 9d8c7b6a5f4e

ALTER TYPE appointment_status ADD VALUE IF NOT EXISTS 'rescheduled' AFTER 'booked';

UPDATE alembic_version SET version_num='9d8c7b6a5f4e' WHERE alembic_version.version_num = '5a6b7c8d9e0f';

COMMIT;
