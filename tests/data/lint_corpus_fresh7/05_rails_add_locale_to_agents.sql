-- db/migrate/20261012083344_add_locale_to_agents.rb
--   add_column :agents, :locale, :string, default: "en", null: false
BEGIN;
ALTER TABLE "agents" ADD "locale" character varying DEFAULT 'en' NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261012083344') RETURNING "version";
COMMIT;
