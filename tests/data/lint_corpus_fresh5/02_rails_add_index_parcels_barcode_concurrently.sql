-- == 20261102093000 AddIndexToParcelsBarcode: migrating ===========================
-- disable_ddl_transaction!
-- add_index(:parcels, :barcode, {:algorithm=>:concurrently})
CREATE INDEX CONCURRENTLY "index_parcels_on_barcode" ON "parcels" ("barcode");
INSERT INTO "schema_migrations" ("version") VALUES ('20261102093000');
