BEGIN;

-- Running upgrade 3f9c2a1b7d4e -> 7b1e0c9d2a3f

ALTER TABLE staff_users ADD COLUMN password_changed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL;

UPDATE alembic_version SET version_num='7b1e0c9d2a3f' WHERE alembic_version.version_num = '3f9c2a1b7d4e';

COMMIT;
