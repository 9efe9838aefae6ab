-- db/migrate/20261020090000_rename_channel_to_source_on_tickets.rb
BEGIN;
ALTER TABLE "tickets" RENAME COLUMN "channel" TO "source";
INSERT INTO "schema_migrations" ("version") VALUES ('20261020090000') RETURNING "version";
COMMIT;
