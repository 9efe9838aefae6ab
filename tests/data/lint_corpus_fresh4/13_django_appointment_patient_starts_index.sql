BEGIN;
--
-- Create index appointment_patient_starts_idx on field(s) patient, starts_at of model appointment
--
CREATE INDEX "appointment_patient_starts_idx" ON "appointments" ("patient_id", "starts_at");
--
-- Create index patient_email_lower_idx on Lower(F(email)) on model patient
--
CREATE INDEX "patient_email_lower_idx" ON "patients" ((LOWER("email")));
COMMIT;
