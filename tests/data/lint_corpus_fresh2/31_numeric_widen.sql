-- Alembic: op.alter_column('invoices', 'amount', type_=sa.Numeric(14, 2))
ALTER TABLE invoices ALTER COLUMN amount TYPE NUMERIC(14, 2);
