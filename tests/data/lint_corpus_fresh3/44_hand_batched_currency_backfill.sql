-- backfill orders.currency in batches of 50 so no batch holds row locks for long
UPDATE orders SET currency = 'USD' WHERE currency IS NULL AND id BETWEEN 1 AND 50;
UPDATE orders SET currency = 'USD' WHERE currency IS NULL AND id BETWEEN 51 AND 100;
ANALYZE orders;
