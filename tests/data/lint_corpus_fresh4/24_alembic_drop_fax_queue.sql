BEGIN;

-- Running upgrade 9d8c7b6a5f4e -> e1f2a3b4c5d6

DROP TABLE fax_queue;

UPDATE alembic_version SET version_num='e1f2a3b4c5d6' WHERE alembic_version.version_num = '9d8c7b6a5f4e';

COMMIT;
