-- rename_enum_value :order_status, from: "cancelled", to: "canceled"
BEGIN;
ALTER TYPE "order_status" RENAME VALUE 'cancelled' TO 'canceled';
INSERT INTO "schema_migrations" ("version") VALUES ('20250601090000') RETURNING "version";
COMMIT;
