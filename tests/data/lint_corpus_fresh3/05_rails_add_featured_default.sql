BEGIN;
ALTER TABLE "products" ADD "featured" boolean DEFAULT FALSE NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20250402101010') RETURNING "version";
COMMIT;
