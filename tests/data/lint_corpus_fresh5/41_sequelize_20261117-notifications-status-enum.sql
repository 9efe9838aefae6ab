-- Executing (default): sequelize db:migrate 20261117090000-notifications-status.js
DO 'BEGIN CREATE TYPE "public"."enum_Notifications_status" AS ENUM(''queued'', ''sent'', ''failed''); EXCEPTION WHEN duplicate_object THEN null; END';
ALTER TABLE "public"."Notifications" ADD COLUMN "status" "public"."enum_Notifications_status" DEFAULT 'queued';
