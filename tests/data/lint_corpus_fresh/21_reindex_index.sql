-- reindex index
REINDEX INDEX orders_account_idx;
