ALTER DOMAIN positive_int DROP CONSTRAINT IF EXISTS positive_int_check;
