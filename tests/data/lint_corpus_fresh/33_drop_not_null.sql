-- drop not null
ALTER TABLE orders ALTER COLUMN status DROP NOT NULL;
