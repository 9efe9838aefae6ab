"""Changing the type of a primary key column (integer -> bigint) together with every foreign key to it.

Expand: the key column and every referencing column get hidden copies of the new type with dual
write and backfill (column_swap.py); a unique index on the hidden key column is built CONCURRENTLY.
Validate (after the backfill, so every parent row has its new key): the foreign keys are created again
between the hidden columns, NOT VALID under temporary names, then VALIDATEd; reads and writes go on.
Contract first, with brief lock_timeout-bounded locks only: the old foreign keys are dropped, the
primary key constraint moves to the unique index (`ADD CONSTRAINT … PRIMARY KEY USING INDEX`, its
NOT NULL proven by a validated CHECK), the sequence or identity moves to the new column; then the
structural contract drops the old columns and renames the hidden ones, and the new foreign keys take
the old names. Before contract nothing of the old shape is touched, so rollback drops what was added.
"""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from liveshift.catalog import Catalog, Column, IncomingForeignKey, Table
from liveshift.errors import SpecError
from liveshift.locks import ACCESS_EXCLUSIVE
from liveshift.operations.base import OpContext, OpPlan, hidden_name, replace_table
from liveshift.operations.column_swap import (
    Swap,
    SwapSteps,
    add_foreign_key,
    drop_foreign_key_while_hidden,
    fk_tail,
    plan_swap,
    refuse_unsupported,
    rename_constraint,
)
from liveshift.operations.common import create_index_concurrently, drop_constraint, two_tables, validate_constraint
from liveshift.steps import Step, qualified, relation_missing


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
    plan.expand.append(create_index_concurrently(schema, physical, temp_index, [swap.hidden], unique=True))
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
        )
        refuse_unsupported(ref_swap, ctx)
        plan_swap(ctx, plan, ref_swap, first)
        original = ctx.physical.tables[source.physical].constraint(fk.name)
        assert original is not None
        options = fk_tail(original)
        if options is None:
            raise SpecError(f"foreign key {fk.name!r} of table {source.name!r} cannot be rebuilt: {fk.definition}")
        temp = hidden_name("fk", fk.name)
        # after the backfill every parent row has its new key: only now can the new key be enforced
        plan.validate.append(
            add_foreign_key(schema, source.physical, temp, [ref_swap.hidden], schema, physical, [swap.hidden], options)
        )
        if original.validated:
            plan.validate.append(validate_constraint(schema, source.physical, temp))
        # dropping a foreign key locks the table it references too, which its SQL does not name
        both = {"tables": ((schema, source.physical), (schema, physical)), "lock_mode": ACCESS_EXCLUSIVE}
        drop_old = drop_foreign_key_while_hidden(schema, source.physical, fk.name, ref_swap.hidden)
        first.key_swap.append(replace(drop_old, **both))
        plan.contract.append(rename_constraint(schema, ctx.final_name_of(source.physical)[0], temp, fk.name))
        plan.rollback_first.append(replace(two_tables(drop_constraint(schema, source.physical, temp)), **both))
    first.key_swap.append(
        Step(
            f"swap primary key {pk_name} of {physical} to the unique index {temp_index} on {swap.hidden} "
            f"(NOT NULL proven, no scan)",
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
                qualified(schema, physical),
                sql.Identifier(pk_name),
                sql.Identifier(pk_name),
                sql.Identifier(temp_index),
            ),
            skip_if=relation_missing(schema, temp_index),
        )
    )
