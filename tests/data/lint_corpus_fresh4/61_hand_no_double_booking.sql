-- a practitioner cannot be booked twice at once
CREATE EXTENSION IF NOT EXISTS btree_gist;

BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE appointments
    ADD CONSTRAINT appointments_no_double_booking
    EXCLUDE USING gist (practitioner_id WITH =, tsrange(starts_at, ends_at) WITH &&)
    WHERE (status <> 'cancelled');
COMMIT;
