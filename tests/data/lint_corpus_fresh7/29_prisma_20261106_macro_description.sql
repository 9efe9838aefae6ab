-- prisma/migrations/20261106120000_macro_description/migration.sql
-- AlterTable
ALTER TABLE "macros" ADD COLUMN     "description" TEXT NOT NULL DEFAULT '',
ALTER COLUMN "usage_count" SET NOT NULL;
