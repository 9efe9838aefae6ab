BEGIN;

-- Running upgrade 1a2b3c4d5e6f -> 3c4d5e6f7a8b

UPDATE feature_flags SET rollout = 0 WHERE rollout IS NULL;

ALTER TABLE feature_flags ALTER COLUMN rollout SET DEFAULT '0';

ALTER TABLE feature_flags ALTER COLUMN rollout SET NOT NULL;

UPDATE alembic_version SET version_num='3c4d5e6f7a8b' WHERE alembic_version.version_num = '1a2b3c4d5e6f';

COMMIT;
