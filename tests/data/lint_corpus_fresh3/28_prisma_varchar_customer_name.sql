-- AlterTable
ALTER TABLE "LegacyCustomers" ALTER COLUMN "FullName" SET DATA TYPE VARCHAR(200);
