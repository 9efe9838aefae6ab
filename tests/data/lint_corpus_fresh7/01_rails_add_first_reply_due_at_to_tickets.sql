-- db/migrate/20261002091500_add_first_reply_due_at_to_tickets.rb (rails db:migrate, SQL from the log)
BEGIN;
ALTER TABLE "tickets" ADD "first_reply_due_at" timestamp(6);
INSERT INTO "schema_migrations" ("version") VALUES ('20261002091500') RETURNING "version";
COMMIT;
