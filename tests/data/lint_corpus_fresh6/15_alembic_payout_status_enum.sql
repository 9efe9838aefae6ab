-- alembic upgrade 0be4f1d8a662:5e8a13c0d7b4 --sql
BEGIN;

-- Running upgrade 0be4f1d8a662 -> 5e8a13c0d7b4

CREATE TYPE payout_status AS ENUM ('pending', 'in_transit', 'paid', 'failed', 'canceled');

ALTER TABLE payouts ALTER COLUMN status DROP DEFAULT;

ALTER TABLE payouts ALTER COLUMN status TYPE payout_status USING status::payout_status;

ALTER TABLE payouts ALTER COLUMN status SET DEFAULT 'pending';

UPDATE alembic_version SET version_num='5e8a13c0d7b4' WHERE alembic_version.version_num = '0be4f1d8a662';

COMMIT;
