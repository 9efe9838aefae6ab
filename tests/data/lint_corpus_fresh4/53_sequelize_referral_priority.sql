-- Executing (default): sequelize db:migrate 20261125-add-referral-priority.js
DO 'BEGIN CREATE TYPE "public"."enum_Referrals_priority" AS ENUM(''routine'', ''urgent''); EXCEPTION WHEN duplicate_object THEN null; END';
ALTER TABLE "public"."Referrals" ADD COLUMN "priority" "public"."enum_Referrals_priority" DEFAULT 'routine';
