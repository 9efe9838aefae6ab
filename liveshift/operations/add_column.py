"""add_column: a hidden nullable column only green sees; filled by `up` for blue writes and the backfill."""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog
from liveshift.ddl.statements import add_hidden_column, not_null_steps, set_default
from liveshift.operations.base import (
    ExpressionProbe,
    OpContext,
    OperationBase,
    OpPlan,
    Transform,
    hidden_name,
)
from liveshift.operations.columns import ColumnDef, check_column_options, declared_constraints
from liveshift.operations.comment import comment_step
from liveshift.operations.constraints import (
    DeclaredCheck,
    check_name,
    fk_name,
    not_null_check_name,
    plan_declared_constraints,
    unique_name,
)
from liveshift.operations.partitioned_index import partition_key_missing


class AddColumn(OperationBase):
    op_name: ClassVar[str] = "add_column"
    op: Literal["add_column"] = "add_column"
    table: str
    column: ColumnDef
    up: str | None = None

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if table.column(self.column.name) is not None:
            raise self.fail("column.name", f"column {self.column.name!r} already exists in table {self.table!r}")
        if self.column.primary_key:
            raise self.fail("column.primary_key", "add_column cannot add a primary key; use alter_column")
        if not self.column.nullable and self.up is None and self.column.default is None:
            raise self.fail(
                "up",
                f"column {self.column.name!r} is NOT NULL: give 'up' (an expression over the "
                "old row) or 'default' to fill existing rows",
            )
        check_column_options(self, self.column, "column")
        missing = partition_key_missing(table, [self.column.name]) if table.partitioning is not None else None
        if self.column.unique and missing:  # a new column is in no partition key: no unique key on it alone
            raise self.fail("column.unique", missing)
        if self.column.references:
            ref = catalog.table(self.column.references.table)
            if ref is None:
                raise self.fail("column.references.table", f"table {self.column.references.table!r} does not exist")
            if ref.column(self.column.references.column) is None:
                raise self.fail(
                    "column.references.column",
                    f"column {self.column.references.column!r} does not exist in table {ref.name!r}",
                )

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        hidden = hidden_name("new", self.column.name)
        columns = [*table.columns, self.column.as_column(stored_as=hidden)]
        indexes, constraints = declared_constraints(
            self.column.name,
            unique=self.column.unique_name_or(unique_name(table.name, self.column.name)),
            check=None,  # the CHECK is only added at contract; later operations of the file do not see it
            foreign_key=self.column.fk_name_or(fk_name(table.name, self.column.name)),
            references=self.column.references,
        )
        new_table = table.model_copy(
            update={
                "columns": columns,
                "constraints": [*table.constraints, *constraints],
                "indexes": [*table.indexes, *indexes],
            }
        )
        return catalog.model_copy(update={"tables": {**catalog.tables, self.table: new_table}})

    def plan(self, ctx: OpContext) -> OpPlan:
        schema, before = ctx.schema, ctx.before.tables[self.table]
        physical = before.physical
        hidden = hidden_name("new", self.column.name)
        plan = OpPlan()
        plan.structure.append(add_hidden_column(schema, physical, hidden, self.column.type))
        if self.column.default is not None:
            plan.expand.append(set_default(schema, physical, hidden, self.column.default))
        final_table, final_column = ctx.final_name_of(physical, hidden)
        if not self.column.nullable:
            nn = not_null_check_name(self.column.name)
            expand, validate, contract = not_null_steps(schema, physical, hidden, nn, final_table, final_column)
            plan.expand += expand
            plan.validate += validate
            plan.contract += contract
        plan_declared_constraints(
            ctx,
            plan,
            self.table,
            hidden,
            unique=self.column.unique_name_or(unique_name(before.name, self.column.name)),
            foreign_key=self.column.fk_name_or(fk_name(before.name, self.column.name)),
            references=self.column.references,
            check=self._declared_check(before.name),
        )
        self._plan_fill(ctx, plan, hidden)
        if self.column.comment is not None:
            plan.contract.append(comment_step(ctx, physical, ("COLUMN", hidden), self.column.comment))
        return plan

    def _declared_check(self, table: str) -> DeclaredCheck | None:
        check = self.column.check_def
        if check is None:
            return None
        name = check.name or check_name(table, self.column.name)
        return DeclaredCheck(name, check.expression, "column.check", check.no_inherit)

    def _plan_fill(self, ctx: OpContext, plan: OpPlan, hidden: str) -> None:
        """The `up` (or the default) that fills the column for blue writes and the backfill, and the probes."""
        before = ctx.before.tables[self.table]
        physical = before.physical
        fill = self.up if self.up is not None else self.column.default
        if fill is not None:
            plan.transforms.append(
                Transform(
                    "up",
                    physical,
                    hidden,
                    self.column.type,
                    fill,
                    tuple(before.columns),
                    ctx.index,
                    field="up" if self.up is not None else "column.default",
                )
            )
        plan.types.append(("column.type", self.column.type))
        if self.column.default is not None:
            plan.expressions.append(
                ExpressionProbe(
                    "column.default", physical, self.column.default, tuple(before.columns), self.column.type
                )
            )
