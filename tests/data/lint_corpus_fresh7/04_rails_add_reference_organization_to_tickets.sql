-- db/migrate/20261008153001_add_organization_to_tickets.rb
--   add_reference :tickets, :organization, foreign_key: true
BEGIN;
ALTER TABLE "tickets" ADD "organization_id" bigint;
CREATE INDEX "index_tickets_on_organization_id" ON "tickets" ("organization_id");
ALTER TABLE "tickets" ADD CONSTRAINT "fk_rails_5e0a4b3f21"
FOREIGN KEY ("organization_id")
  REFERENCES "organizations" ("id")
;
INSERT INTO "schema_migrations" ("version") VALUES ('20261008153001') RETURNING "version";
COMMIT;
