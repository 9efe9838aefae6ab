-- db/migrate/20261014094512_remove_signature_from_agents.rb
--   (the column is in ignored_columns since the previous deploy)
BEGIN;
ALTER TABLE "agents" DROP COLUMN "signature";
INSERT INTO "schema_migrations" ("version") VALUES ('20261014094512') RETURNING "version";
COMMIT;
