--liquibase formatted sql

--changeset jdoe:clinic-phone-e164 splitStatements:true endDelimiter:;
ALTER TABLE clinics ALTER COLUMN phone TYPE VARCHAR(32);
ALTER TABLE patients ALTER COLUMN phone TYPE VARCHAR(32);
