--liquibase formatted sql

--changeset carol:35-1
ALTER TABLE orders ADD CONSTRAINT orders_placed_at_not_null CHECK (placed_at IS NOT NULL) NOT VALID;
--rollback ALTER TABLE orders DROP CONSTRAINT orders_placed_at_not_null;

--changeset carol:35-2
ALTER TABLE orders VALIDATE CONSTRAINT orders_placed_at_not_null;

--changeset carol:35-3
ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL;
--rollback ALTER TABLE orders ALTER COLUMN placed_at DROP NOT NULL;

--changeset carol:35-4
ALTER TABLE orders DROP CONSTRAINT orders_placed_at_not_null;
