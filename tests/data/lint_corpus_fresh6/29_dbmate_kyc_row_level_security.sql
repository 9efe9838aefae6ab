-- db/migrations/20261116120000_kyc_row_level_security.sql
-- migrate:up
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kyc_reviewer') THEN
    CREATE ROLE kyc_reviewer NOLOGIN;
  END IF;
END
$$;

ALTER TABLE kyc_documents ENABLE ROW LEVEL SECURITY;

CREATE POLICY kyc_documents_reviewer_read ON kyc_documents
    FOR SELECT TO kyc_reviewer
    USING (status IN ('submitted', 'approved', 'rejected'));

CREATE POLICY kyc_documents_app_all ON kyc_documents
    TO ledger_app
    USING (true) WITH CHECK (true);

GRANT SELECT ON kyc_documents TO kyc_reviewer;
GRANT SELECT, INSERT, UPDATE ON kyc_documents TO ledger_app;

-- migrate:down
REVOKE ALL ON kyc_documents FROM ledger_app;
REVOKE ALL ON kyc_documents FROM kyc_reviewer;
DROP POLICY kyc_documents_app_all ON kyc_documents;
DROP POLICY kyc_documents_reviewer_read ON kyc_documents;
ALTER TABLE kyc_documents DISABLE ROW LEVEL SECURITY;
