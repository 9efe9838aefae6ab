BEGIN;

-- Running upgrade a41c7e2d9b10 -> 4b7d0e1f2a3c

CREATE INDEX ix_customs_declarations_hs_code ON customs_declarations (hs_code);

UPDATE alembic_version SET version_num='4b7d0e1f2a3c' WHERE alembic_version.version_num = 'a41c7e2d9b10';

COMMIT;
