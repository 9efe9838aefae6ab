-- AddTimezoneToAccounts
BEGIN;
ALTER TABLE "accounts" ADD "timezone" character varying;
INSERT INTO "schema_migrations" ("version") VALUES ('20250314090000') RETURNING "version";
COMMIT;
