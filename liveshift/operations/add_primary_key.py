"""add_primary_key: a primary key for an existing table, without a long lock.

Expand: a unique index on the key's columns is built CONCURRENTLY under a temporary name, and each
column that accepts NULL gets a `CHECK (column IS NOT NULL) NOT VALID` (it holds for new writes of
both versions at once). Validate (reads and writes go on): the checks are VALIDATEd. Contract, with
brief lock_timeout-bounded locks only: SET NOT NULL uses the validated check as its proof (no scan),
the check is dropped, and `ADD CONSTRAINT … PRIMARY KEY USING INDEX` makes the index the key (it
takes the constraint's name). Neither version's view changes. Rollback drops the index and the checks.

An operation of its own beside add_constraint (whose types are those Django's AddConstraint and pgroll's
create_constraint take: check, unique, foreign_key), as alter_primary_key is for changing the key's columns.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Constraint, Index, Table
from liveshift.ddl.statements import (
    add_primary_key_using_index,
    create_index_concurrently,
    drop_constraint,
    drop_index_concurrently,
    not_null_steps,
)
from liveshift.operations.base import OpContext, OperationBase, OpPlan, hidden_name, replace_table
from liveshift.operations.constraints import not_null_check_name
from liveshift.operations.create_table import relation_names


class AddPrimaryKey(OperationBase):
    op_name: ClassVar[str] = "add_primary_key"
    op: Literal["add_primary_key"] = "add_primary_key"
    table: str
    columns: list[str] = Field(min_length=1)
    name: str | None = Field(None, min_length=1, max_length=63, description="default <table>_pkey")

    def key_name(self) -> str:
        return self.name or f"{self.table}_pkey"

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if table.primary_key:
            raise self.fail("table", f"table {self.table!r} has a primary key already ({', '.join(table.primary_key)})")
        if table.partitioning is not None:
            raise self.fail("table", "a partitioned table's primary key is not added here: its partitions' indexes")
        if len(set(self.columns)) != len(self.columns):
            raise self.fail("columns", "a column is named twice")
        for i, name in enumerate(self.columns):
            self.require_column(table, name, f"columns[{i}]")
        name = self.key_name()
        if name in relation_names(catalog) or table.constraint(name) is not None:
            raise self.fail("name", f"the name {name!r} is taken already")

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        name = self.key_name()
        columns = [c.model_copy(update={"nullable": False}) if c.name in self.columns else c for c in table.columns]
        index = Index(name=name, columns=list(self.columns), unique=True, primary=True, constraint=name)
        constraint = Constraint(name=name, kind="primary_key", definition="", columns=list(self.columns))
        new = table.model_copy(
            update={
                "columns": columns,
                "primary_key": list(self.columns),
                "indexes": [*table.indexes, index],
                "constraints": [*table.constraints, constraint],
            }
        )
        return replace_table(catalog, self.table, new)

    def plan(self, ctx: OpContext) -> OpPlan:
        schema, table = ctx.schema, ctx.before.tables[self.table]
        index = hidden_name("pk", self.key_name())
        plan = OpPlan()
        physical = [c.physical for c in table.columns if c.name in self.columns]
        plan.expand.append(create_index_concurrently(schema, table.physical, index, physical, unique=True))
        plan.rollback.append(drop_index_concurrently(schema, index))
        prove_not_null(ctx, plan, table, self.columns)
        final_table = ctx.final_name_of(table.physical)[0]
        plan.contract.append(add_primary_key_using_index(schema, final_table, self.key_name(), index))
        return plan


def prove_not_null(ctx: OpContext, plan: OpPlan, table: Table, columns: list[str]) -> None:
    """NOT NULL for each of `columns` that accepts NULL, without a long lock: a CHECK NOT VALID at expand, VALIDATEd
    after the backfill, then SET NOT NULL at contract uses it as its proof (no scan) and drops it."""
    final_table = ctx.final_name_of(table.physical)[0]
    for column in table.columns:
        if column.name not in columns or not column.nullable:
            continue
        check = not_null_check_name(column.physical)
        final_column = ctx.final_name_of(table.physical, column.physical)[1]
        steps = not_null_steps(ctx.schema, table.physical, column.physical, check, final_table, final_column)
        plan.expand += steps[0]
        plan.validate += steps[1]
        plan.contract += steps[2]
        plan.rollback.append(drop_constraint(ctx.schema, table.physical, check))
