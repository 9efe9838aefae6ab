-- lock table
BEGIN;
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
UPDATE orders SET status = 'paid' WHERE id = 1;
COMMIT;
