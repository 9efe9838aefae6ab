BEGIN;

-- Running upgrade e1f2a3b4c5d6 -> 2b3c4d5e6f7a

ALTER TABLE invoice_lines ADD CONSTRAINT ck_invoice_lines_quantity_positive CHECK (quantity > 0);

ALTER TABLE invoice_lines ADD CONSTRAINT ck_invoice_lines_unit_cents_nonneg CHECK (unit_cents >= 0);

UPDATE alembic_version SET version_num='2b3c4d5e6f7a' WHERE alembic_version.version_num = 'e1f2a3b4c5d6';

COMMIT;
