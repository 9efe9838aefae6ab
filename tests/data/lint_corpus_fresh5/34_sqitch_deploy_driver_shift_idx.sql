-- Deploy logistics:driver_shift_idx to pg
-- requires: driver_shift

BEGIN;

CREATE INDEX driver_shift_driver_starts_idx ON "driver_shift" ("driverId", "startsAt");

COMMIT;
