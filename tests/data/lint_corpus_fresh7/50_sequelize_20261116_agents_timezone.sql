-- migrations/20261116090000-add-timezone-to-agents.js (sequelize db:migrate, logging on)
ALTER TABLE "public"."agents" ADD COLUMN "timezone" VARCHAR(255) DEFAULT 'UTC';
