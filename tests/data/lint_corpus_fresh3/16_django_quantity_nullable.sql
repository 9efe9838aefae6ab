BEGIN;
--
-- Alter field quantity on orderitem
--
ALTER TABLE "order_items" ALTER COLUMN "quantity" DROP NOT NULL;
COMMIT;
