BEGIN;

-- Running upgrade 1a2b3c4d5e6f -> 4d5e6f7a8b9c

CREATE TYPE shipment_carrier AS ENUM ('ups', 'fedex', 'usps');

ALTER TABLE orders ADD COLUMN carrier shipment_carrier;

UPDATE alembic_version SET version_num='4d5e6f7a8b9c' WHERE alembic_version.version_num = '1a2b3c4d5e6f';

COMMIT;
