-- Executing (default): sequelize db:migrate 20261116120000-notifications-read-at.js
ALTER TABLE "public"."Notifications" ADD COLUMN "readAt" TIMESTAMP WITH TIME ZONE;
ALTER TABLE "Notifications" ALTER COLUMN "channel" SET NOT NULL;ALTER TABLE "Notifications" ALTER COLUMN "channel" DROP DEFAULT;ALTER TABLE "Notifications" ALTER COLUMN "channel" TYPE VARCHAR(255);
