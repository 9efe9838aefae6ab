-- == 20261102091500 AddSignatureRequiredToShipments: migrating ====================
-- add_column(:shipments, :signature_required, :boolean, {:default=>false, :null=>false})
BEGIN;
ALTER TABLE "shipments" ADD "signature_required" boolean DEFAULT FALSE NOT NULL;
INSERT INTO "schema_migrations" ("version") VALUES ('20261102091500');
COMMIT;
