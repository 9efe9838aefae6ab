BEGIN;
--
-- Create constraint unique_member_per_payer on model insurancepolicy
--
ALTER TABLE "insurance_policies" ADD CONSTRAINT "unique_member_per_payer" UNIQUE ("payer", "member_id");
COMMIT;
