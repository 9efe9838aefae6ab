--liquibase formatted sql

--changeset mkowalski:2026-11-13-1
CREATE SEQUENCE IF NOT EXISTS patient_mrn_seq START WITH 100000 INCREMENT BY 1 CACHE 20;
--rollback DROP SEQUENCE patient_mrn_seq;

--changeset mkowalski:2026-11-13-2
ALTER TABLE patients ALTER COLUMN mrn SET DEFAULT ('MRN' || nextval('patient_mrn_seq'));
--rollback ALTER TABLE patients ALTER COLUMN mrn DROP DEFAULT;
