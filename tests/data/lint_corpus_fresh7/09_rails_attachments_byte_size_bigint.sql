-- db/migrate/20261019160302_change_attachments_byte_size_to_bigint.rb
--   change_column :attachments, :byte_size, :bigint  (a 2.3 GB upload overflowed integer)
BEGIN;
ALTER TABLE "attachments" ALTER COLUMN "byte_size" TYPE bigint;
INSERT INTO "schema_migrations" ("version") VALUES ('20261019160302') RETURNING "version";
COMMIT;
