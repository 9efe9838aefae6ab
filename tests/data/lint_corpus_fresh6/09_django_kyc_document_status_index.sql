--
-- python manage.py sqlmigrate kyc 0017
--
BEGIN;
--
-- Create index kyc_doc_status_idx on field(s) status, submitted_at of model kycdocument
--
CREATE INDEX "kyc_doc_status_idx" ON "kyc_documents" ("status", "submitted_at");
COMMIT;
