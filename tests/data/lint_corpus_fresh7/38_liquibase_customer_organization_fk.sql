--liquibase formatted sql

--changeset jpatel:customers-org-fk-1
ALTER TABLE customers ADD CONSTRAINT fk_customers_organization FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE SET NULL NOT VALID;
--rollback ALTER TABLE customers DROP CONSTRAINT fk_customers_organization;

--changeset jpatel:customers-org-fk-2 runInTransaction:false
ALTER TABLE customers VALIDATE CONSTRAINT fk_customers_organization;
--rollback empty

--changeset jpatel:customers-org-fk-3 runInTransaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_customers_organization_id ON customers (organization_id);
--rollback DROP INDEX idx_customers_organization_id;
