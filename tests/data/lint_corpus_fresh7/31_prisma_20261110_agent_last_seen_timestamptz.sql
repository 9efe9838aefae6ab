-- prisma/migrations/20261110150000_agent_last_seen_timestamptz/migration.sql
-- AlterTable
ALTER TABLE "agents" ALTER COLUMN "last_seen_at" SET DATA TYPE TIMESTAMPTZ(3);
