-- add column with fk
ALTER TABLE orders ADD COLUMN tag_id int REFERENCES tags (id);
