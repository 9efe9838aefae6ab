/*
  Warnings:

  - You are about to drop the column `legacyPlan` on the `Subscription` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "Subscription" DROP COLUMN "legacyPlan";

-- CreateIndex
CREATE INDEX "Subscription_accountId_idx" ON "Subscription"("accountId");
