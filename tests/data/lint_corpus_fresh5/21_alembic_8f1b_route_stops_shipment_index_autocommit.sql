BEGIN;

-- Running upgrade a41c7e2d9b10 -> 8f1b4c5d6e7a

COMMIT;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_route_stops_shipment_id ON route_stops (shipment_id);

BEGIN;

UPDATE alembic_version SET version_num='8f1b4c5d6e7a' WHERE alembic_version.version_num = 'a41c7e2d9b10';

COMMIT;
