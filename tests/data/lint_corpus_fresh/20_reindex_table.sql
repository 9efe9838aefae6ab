-- reindex table
REINDEX TABLE orders;
