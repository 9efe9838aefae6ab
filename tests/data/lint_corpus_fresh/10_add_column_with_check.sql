-- add column with check
ALTER TABLE orders ADD COLUMN discount int CHECK (discount BETWEEN 0 AND 100);
