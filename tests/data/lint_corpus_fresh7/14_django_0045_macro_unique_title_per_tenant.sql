BEGIN;
--
-- Create constraint macro_unique_title_per_tenant on model macro
--
ALTER TABLE "macros" ADD CONSTRAINT "macro_unique_title_per_tenant" UNIQUE ("tenant_id", "title");
COMMIT;
