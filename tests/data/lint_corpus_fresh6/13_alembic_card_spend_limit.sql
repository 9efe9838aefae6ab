-- alembic upgrade a41c9e2f7b13:c7d20e5a9f31 --sql
BEGIN;

-- Running upgrade a41c9e2f7b13 -> c7d20e5a9f31

ALTER TABLE cards ADD COLUMN spend_limit_minor BIGINT;

ALTER TABLE cards ADD CONSTRAINT ck_cards_spend_limit_positive CHECK (spend_limit_minor > 0);

UPDATE alembic_version SET version_num='c7d20e5a9f31' WHERE alembic_version.version_num = 'a41c9e2f7b13';

COMMIT;
