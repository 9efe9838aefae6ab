--liquibase formatted sql

--changeset logistics-team:2026-11-10-1
ALTER TABLE parcels ADD COLUMN hazmat_class VARCHAR(10);
--rollback ALTER TABLE parcels DROP COLUMN hazmat_class;

--changeset logistics-team:2026-11-10-2
COMMENT ON COLUMN parcels.hazmat_class IS 'UN hazard class, e.g. 3 or 9';
--rollback COMMENT ON COLUMN parcels.hazmat_class IS NULL;
