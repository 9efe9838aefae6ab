-- AlterTable
ALTER TABLE "PortalAccount" ALTER COLUMN "patientId" SET DATA TYPE BIGINT;
