"""Changing the type of a primary key column (integer -> bigint) together with every foreign key to it.

Expand: the key column and every referencing column get hidden copies of the new type with dual
write and backfill (column_swap.py); a unique index on the hidden key column is built CONCURRENTLY (at validate,
before the foreign keys, with `indexes: after_backfill`: `Swap.index_steps`).
Validate (after the backfill, so every parent row has its new key): the foreign keys are created again
between the hidden columns, NOT VALID under temporary names, then VALIDATEd; reads and writes go on.
Contract first, with brief lock_timeout-bounded locks only: the old foreign keys are dropped, the
primary key constraint moves to the unique index (`ADD CONSTRAINT … PRIMARY KEY USING INDEX`, its
NOT NULL proven by a validated CHECK), the sequence or identity moves to the new column; then the
structural contract drops the old columns and renames the hidden ones, and the new foreign keys take
the old names. Before contract nothing of the old shape is touched, so rollback drops what was added.
"""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Catalog, Column, IncomingForeignKey, Table
from liveshift.catalog.text import foreign_key_options
from liveshift.ddl import statements
from liveshift.errors import SpecError
from liveshift.operations.base import OpContext, OpPlan, hidden_name, replace_table
from liveshift.operations.column_swap import Swap, SwapSteps, plan_swap, refuse_unsupported
from liveshift.operations.partitioned_foreign_key import partitioned_foreign_key_steps, per_partition


def cast(column: str, type_: str) -> str:
    return sql.SQL("CAST({} AS {})").format(sql.Identifier(column), sql.SQL(type_)).as_string(None)


def referencing_columns(catalog: Catalog, table: Table, column: Column) -> list[IncomingForeignKey]:
    """Foreign keys in other tables (or this one) that reference `column`."""
    return [fk for fk in table.referenced_by if column.physical in fk.ref_columns]


def _source(catalog: Catalog, fk: IncomingForeignKey) -> tuple[Table, Column]:
    table = next(t for t in catalog.tables.values() if t.physical == fk.table)
    column = next(c for c in table.columns if c.physical == fk.columns[0])
    return table, column


def with_referencing_swapped(catalog: Catalog, table: Table, column: Column, new_type: str) -> Catalog:
    """The logical catalog with every column referencing `column` stored in a hidden copy of `new_type`."""
    for fk in referencing_columns(catalog, table, column):
        source, ref_col = _source(catalog, fk)
        current = catalog.tables[source.name]
        columns = [
            c.model_copy(update={"type": new_type, "stored_as": hidden_name("new", c.name)})
            if c.name == ref_col.name
            else c
            for c in current.columns
        ]
        catalog = replace_table(catalog, source.name, current.model_copy(update={"columns": columns}))
    return catalog


def plan_key_swap(ctx: OpContext, plan: OpPlan, swap: Swap, first: SwapSteps, new_type: str) -> None:
    schema, table, physical = ctx.schema, swap.table, swap.table.physical
    pk_index = next((i for i in table.indexes if i.primary), None)
    if pk_index is None or pk_index.constraint is None:
        raise SpecError(f"table {table.name!r}: its primary key index is not known")
    pk_name, temp_index = pk_index.constraint, hidden_name("pk", pk_index.constraint)
    key_index = statements.create_index_concurrently(schema, physical, temp_index, [swap.hidden], unique=True)
    swap.index_steps(plan, pk_index).append(key_index)  # before the foreign keys to it, in validate
    referencing = referencing_columns(ctx.before, table, swap.column)
    for fk in referencing:
        source, ref_col = _source(ctx.before, fk)
        source_after = next(t for t in ctx.after.tables.values() if t.physical == source.physical)
        new = source_after.column(ref_col.name)
        assert new is not None
        ref_swap = Swap(
            table=source,
            column=ref_col,
            new=new,
            hidden=new.physical,
            up=cast(ref_col.name, new_type),
            down=cast(new.name, ref_col.type),
            new_default=ref_col.default,
            skip_foreign_keys={fk.name},
            note=f"references {table.name}.{swap.column.name} through {fk.name}",
            indexes_after_backfill=swap.indexes_after_backfill,
        )
        refuse_unsupported(ref_swap, ctx)
        plan_swap(ctx, plan, ref_swap, first)
        original = ctx.physical.tables[source.physical].constraint(fk.name)
        assert original is not None
        options = foreign_key_options(original)
        if options is None:
            raise SpecError(f"foreign key {fk.name!r} of table {source.name!r} cannot be rebuilt: {fk.definition}")
        temp = hidden_name("fk", fk.name)
        # after the backfill every parent row has its new key: only now can the new key be enforced
        target = (temp, [ref_swap.hidden], physical, [swap.hidden], sql.SQL(options))
        partitioning = ctx.physical.tables[source.physical].partitioning
        if partitioning is not None and original.validated and per_partition(ctx.physical):
            expand, validate = partitioned_foreign_key_steps(schema, source.physical, partitioning, *target)
            plan.validate += expand + validate
        else:
            plan.validate.append(statements.add_foreign_key_not_valid(schema, source.physical, *target))
            if original.validated:
                plan.validate.append(statements.validate_constraint(schema, source.physical, temp))
        first.key_swap.append(
            statements.drop_foreign_key_while_hidden(schema, source.physical, fk.name, physical, ref_swap.hidden)
        )
        plan.contract.append(statements.rename_constraint(schema, ctx.final_name_of(source.physical)[0], temp, fk.name))
        plan.rollback_first.append(statements.drop_foreign_key(schema, source.physical, temp, physical))
    first.key_swap.append(statements.swap_primary_key(schema, physical, pk_name, temp_index, swap.hidden))
