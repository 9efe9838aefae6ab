--
-- python manage.py sqlmigrate customers 0031  (RunSQL, atomic = False)
--
-- Raw SQL operation
--
DO $$
DECLARE
  batch_rows integer;
BEGIN
  LOOP
    UPDATE customers SET country = 'US'
    WHERE id IN (SELECT id FROM customers WHERE country IS NULL ORDER BY id LIMIT 100);
    GET DIAGNOSTICS batch_rows = ROW_COUNT;
    EXIT WHEN batch_rows = 0;
  END LOOP;
END
$$;
