--liquibase formatted sql

--changeset mkowalski:2026-11-12-1
--comment: patients invited to the portal
ALTER TABLE patients ADD COLUMN portal_invited BOOLEAN DEFAULT FALSE NOT NULL;
--rollback ALTER TABLE patients DROP COLUMN portal_invited;
