-- AlterTable
ALTER TABLE "PortalAccount" ADD COLUMN     "mfaSecret" TEXT,
ADD COLUMN     "mfaEnabled" BOOLEAN NOT NULL DEFAULT false;
