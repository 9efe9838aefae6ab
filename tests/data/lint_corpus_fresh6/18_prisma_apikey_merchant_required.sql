-- prisma/migrations/20261111140233_api_key_merchant_required/migration.sql
/*
  Warnings:

  - Made the column `merchantId` on table `ApiKey` required. This step will fail if there are existing NULL values in that column.

*/
-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "lastUsedAt" TIMESTAMP(3),
ALTER COLUMN "merchantId" SET NOT NULL;
