-- products.reorder_level: a positive_int (domain with a CHECK)
ALTER TABLE products ADD COLUMN reorder_level positive_int;
