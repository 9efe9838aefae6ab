--liquibase formatted sql

--changeset jdoe:referrals-patient-fk
ALTER TABLE "Referrals" ADD CONSTRAINT fk_referrals_patient FOREIGN KEY ("patientId") REFERENCES patients (id);

--changeset jdoe:referrals-patient-idx
CREATE INDEX idx_referrals_patient ON "Referrals" ("patientId");
