-- idx_scan = 0 for 90 days on every replica
DROP INDEX CONCURRENTLY IF EXISTS public.orders_account_id_idx;
