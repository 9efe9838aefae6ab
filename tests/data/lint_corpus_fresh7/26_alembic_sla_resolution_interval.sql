BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 9f0b2d4e6a83

ALTER TABLE sla_policies ALTER COLUMN resolution_minutes TYPE INTERVAL USING make_interval(mins => resolution_minutes);

ALTER TABLE sla_policies RENAME resolution_minutes TO resolution_target;

UPDATE alembic_version SET version_num='9f0b2d4e6a83' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
