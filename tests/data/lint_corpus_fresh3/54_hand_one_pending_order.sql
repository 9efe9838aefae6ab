-- at most one pending order per account
CREATE UNIQUE INDEX orders_one_pending_per_account ON orders (account_id) WHERE status = 'pending';
