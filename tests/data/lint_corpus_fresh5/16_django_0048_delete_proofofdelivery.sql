BEGIN;
--
-- Delete model ProofOfDelivery
--
DROP TABLE "proof_of_delivery" CASCADE;
COMMIT;
