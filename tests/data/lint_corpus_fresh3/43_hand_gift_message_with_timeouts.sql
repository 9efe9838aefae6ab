SET lock_timeout = '3s';
SET statement_timeout = '15min';
ALTER TABLE orders ADD COLUMN gift_message text;
RESET lock_timeout;
RESET statement_timeout;
