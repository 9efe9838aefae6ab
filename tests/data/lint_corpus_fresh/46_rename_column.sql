-- rename column
ALTER TABLE orders RENAME COLUMN note TO remarks;
