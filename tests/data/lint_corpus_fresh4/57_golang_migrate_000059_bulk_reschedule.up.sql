-- Dr. Smith3 moved to afternoons: shift her booked appointments without touching updated_at
BEGIN;
SET LOCAL lock_timeout = '3s';
SET LOCAL statement_timeout = '60s';
ALTER TABLE appointments DISABLE TRIGGER appointments_touch_updated_at;
UPDATE appointments
   SET starts_at = starts_at + interval '5 hours', ends_at = ends_at + interval '5 hours'
 WHERE practitioner_id = 3 AND status = 'booked';
ALTER TABLE appointments ENABLE TRIGGER appointments_touch_updated_at;
COMMIT;
