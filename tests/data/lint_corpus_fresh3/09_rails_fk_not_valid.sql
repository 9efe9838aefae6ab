-- add_foreign_key :order_items, :orders, validate: false; then (next deploy) validate_foreign_key
BEGIN;
ALTER TABLE "order_items" ADD CONSTRAINT "fk_rails_3e1a9f0c2b"
FOREIGN KEY ("order_id")
  REFERENCES "orders" ("id")
 NOT VALID;
INSERT INTO "schema_migrations" ("version") VALUES ('20250415090000') RETURNING "version";
COMMIT;
BEGIN;
ALTER TABLE "order_items" VALIDATE CONSTRAINT "fk_rails_3e1a9f0c2b";
INSERT INTO "schema_migrations" ("version") VALUES ('20250416090000') RETURNING "version";
COMMIT;
