-- django style add fk index
BEGIN;
ALTER TABLE order_items ADD COLUMN tag_id integer NULL;
ALTER TABLE order_items ADD CONSTRAINT order_items_tag_id_fk FOREIGN KEY (tag_id) REFERENCES tags (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX order_items_tag_id_idx ON order_items (tag_id);
COMMIT;
