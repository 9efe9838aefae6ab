BEGIN;
--
-- Alter field score on satisfactionrating
--
ALTER TABLE "satisfaction_ratings" ADD CONSTRAINT "satisfaction_ratings_score_check" CHECK ("score" >= 0);
COMMIT;
