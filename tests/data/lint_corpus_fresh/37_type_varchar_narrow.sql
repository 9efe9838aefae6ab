-- type varchar narrow
ALTER TABLE orders ALTER COLUMN status TYPE varchar(10);
