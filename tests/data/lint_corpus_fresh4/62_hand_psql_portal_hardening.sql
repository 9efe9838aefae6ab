\set ON_ERROR_STOP on
\echo 'portal hardening, ticket OPS-2291'

-- 1. column for the portal's consent version, only where it is missing (staging already has it)
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name = 'PortalAccount' AND column_name = 'consentVersion') THEN
        EXECUTE 'ALTER TABLE public."PortalAccount" ADD COLUMN "consentVersion" smallint';
    END IF;
END
$do$;

COMMENT ON COLUMN public."PortalAccount"."consentVersion" IS 'version of the portal terms; NULL = never accepted; see "Terms; v3"';
COMMENT ON TABLE visit_notes IS $$clinical notes; RLS: a clinic's staff see only their clinic's notes$$;

-- 2. row level security on notes
ALTER TABLE visit_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY visit_notes_clinic_isolation ON visit_notes
    USING (clinic_id = current_setting('app.clinic_id', true)::bigint);
GRANT SELECT, INSERT, UPDATE ON visit_notes TO clinic_app;

-- 3. revoked tokens out; invoice numbers jump to the new range
DELETE FROM api_tokens WHERE revoked;
ALTER SEQUENCE invoice_number_seq RESTART WITH 900000;

-- 4. the utilization report reads the new rows
REFRESH MATERIALIZED VIEW practitioner_utilization;
\echo 'done'
