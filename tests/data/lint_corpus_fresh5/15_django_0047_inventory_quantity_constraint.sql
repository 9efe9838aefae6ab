BEGIN;
--
-- Create constraint quantity_gte_reserved on model inventoryitem
--
ALTER TABLE "inventory_items" ADD CONSTRAINT "quantity_gte_reserved" CHECK ("quantity" >= "reserved");
COMMIT;
