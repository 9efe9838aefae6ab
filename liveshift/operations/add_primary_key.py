"""add_primary_key: a primary key for an existing table, without a long lock.

Expand: a unique index on the key's columns is built CONCURRENTLY under a temporary name, and each
column that accepts NULL gets a `CHECK (column IS NOT NULL) NOT VALID` (it holds for new writes of
both versions at once). Validate (reads and writes go on): the checks are VALIDATEd. Contract, with
brief lock_timeout-bounded locks only: SET NOT NULL uses the validated check as its proof (no scan),
the check is dropped, and `ADD CONSTRAINT … PRIMARY KEY USING INDEX` makes the index the key (it
takes the constraint's name). Neither version's view changes. Rollback drops the index and the checks.

Named as Django's and pgroll's vocabulary would read it next to add_constraint: a table has one primary
key, added here and changed with alter_column (a single-column key's type, with the foreign keys to it).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Constraint, Index
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
        physical = table.physical
        stored = [table.column(c) for c in self.columns]
        index = hidden_name("pk", self.key_name())
        plan = OpPlan()
        plan.expand.append(
            create_index_concurrently(schema, physical, index, [c.physical for c in stored if c], unique=True)
        )
        plan.rollback.append(drop_index_concurrently(schema, index))
        final_table = ctx.final_name_of(physical)[0]
        for column in stored:
            if column is None or not column.nullable:
                continue
            check = not_null_check_name(column.physical)
            final_column = ctx.final_name_of(physical, column.physical)[1]
            expand, validate, contract = not_null_steps(
                schema, physical, column.physical, check, final_table, final_column
            )
            plan.expand += expand
            plan.validate += validate
            plan.contract += contract
            plan.rollback.append(drop_constraint(schema, physical, check))
        plan.contract.append(add_primary_key_using_index(schema, final_table, self.key_name(), index))
        return plan
