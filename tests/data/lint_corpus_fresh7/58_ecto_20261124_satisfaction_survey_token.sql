-- priv/repo/migrations/20261124101500_add_survey_token_to_satisfaction_ratings.exs (mix ecto.migrate --log-migrations-sql)
BEGIN;
ALTER TABLE "satisfaction_ratings" ADD COLUMN "survey_token" varchar(255);
CREATE UNIQUE INDEX "satisfaction_ratings_survey_token_index" ON "satisfaction_ratings" ("survey_token");
COMMIT;
