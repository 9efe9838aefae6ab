BEGIN;
--
-- Rename field specialty on practitioner to primary_specialty
--
ALTER TABLE "practitioners" RENAME COLUMN "specialty" TO "primary_specialty";
COMMIT;
