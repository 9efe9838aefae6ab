-- DropIndex
DROP INDEX "PortalAccount_email_key";

-- CreateIndex
CREATE UNIQUE INDEX "PortalAccount_email_patientId_key" ON "PortalAccount"("email", "patientId");
