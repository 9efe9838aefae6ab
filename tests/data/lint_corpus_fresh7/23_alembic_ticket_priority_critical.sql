BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 8e2a4c6b0f15

ALTER TYPE ticket_priority ADD VALUE IF NOT EXISTS 'critical' AFTER 'urgent';

UPDATE alembic_version SET version_num='8e2a4c6b0f15' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
