-- alembic upgrade c7d20e5a9f31:0be4f1d8a662 --sql
-- (op.get_context().autocommit_block() around the concurrent index)
BEGIN;

-- Running upgrade c7d20e5a9f31 -> 0be4f1d8a662

COMMIT;

CREATE UNIQUE INDEX CONCURRENTLY uq_fx_rates_base_quote_as_of ON fx_rates (base, quote, as_of);

BEGIN;

UPDATE alembic_version SET version_num='0be4f1d8a662' WHERE alembic_version.version_num = 'c7d20e5a9f31';

COMMIT;
