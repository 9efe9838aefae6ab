-- db/migrate/20261102101500_add_nickname_to_accounts.rb, as `rails db:migrate` logs it
BEGIN;
ALTER TABLE "accounts" ADD "nickname" character varying;
INSERT INTO "schema_migrations" ("version") VALUES ('20261102101500') RETURNING "version";
COMMIT;
