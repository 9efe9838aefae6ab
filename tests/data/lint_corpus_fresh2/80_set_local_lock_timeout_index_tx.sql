BEGIN;
SET LOCAL lock_timeout = '3s';
CREATE INDEX invoices_user_id_idx ON invoices (user_id);
COMMIT;
