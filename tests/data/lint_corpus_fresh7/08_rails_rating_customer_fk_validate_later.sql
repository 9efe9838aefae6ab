-- db/migrate/20261015110000_add_customer_fk_to_satisfaction_ratings.rb
--   add_foreign_key :satisfaction_ratings, :customers, validate: false
BEGIN;
ALTER TABLE "satisfaction_ratings" ADD CONSTRAINT "fk_rails_9a1c77e0b2"
FOREIGN KEY ("customer_id")
  REFERENCES "customers" ("id")
 NOT VALID;
INSERT INTO "schema_migrations" ("version") VALUES ('20261015110000') RETURNING "version";
COMMIT;
-- db/migrate/20261015110100_validate_customer_fk_on_satisfaction_ratings.rb
--   validate_foreign_key :satisfaction_ratings, :customers
BEGIN;
ALTER TABLE "satisfaction_ratings" VALIDATE CONSTRAINT "fk_rails_9a1c77e0b2";
INSERT INTO "schema_migrations" ("version") VALUES ('20261015110100') RETURNING "version";
COMMIT;
