-- type varchar to text
ALTER TABLE orders ALTER COLUMN status TYPE text;
