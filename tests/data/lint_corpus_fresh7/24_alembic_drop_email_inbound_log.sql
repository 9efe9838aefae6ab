BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 0d7e3b9a2c64

DROP TABLE email_inbound_log;

UPDATE alembic_version SET version_num='0d7e3b9a2c64' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
