"""add_column: a hidden nullable column only green sees; filled by `up` for blue writes and the backfill."""

from __future__ import annotations

from typing import ClassVar, Literal

from psycopg import sql

from liveshift.catalog import Catalog
from liveshift.operations.base import (
    ExpressionProbe,
    OpContext,
    OperationBase,
    OpPlan,
    Transform,
    hidden_name,
)
from liveshift.operations.columns import ColumnDef, declared_constraints
from liveshift.operations.common import (
    add_foreign_key_not_valid,
    attach_unique_index,
    check_at_contract,
    create_index_concurrently,
    fk_name,
    not_null_check_name,
    not_null_steps,
    unique_name,
    validate_constraint,
)
from liveshift.shape import user_expression
from liveshift.steps import Step, column_exists, qualified


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
            unique=unique_name(table.name, self.column.name) if self.column.unique else None,
            check=None,  # the CHECK is only added at contract; later operations of the file do not see it
            foreign_key=fk_name(table.name, self.column.name),
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
        target = qualified(schema, physical)
        hidden = hidden_name("new", self.column.name)
        plan = OpPlan()
        plan.structure.append(
            Step(
                f"add hidden column {hidden} ({self.column.type}) to {physical}",
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    target, sql.Identifier(hidden), sql.SQL(self.column.type)
                ),
                skip_if=column_exists(schema, physical, hidden),
            )
        )
        if self.column.default is not None:
            plan.expand.append(
                Step(
                    f"set default of {hidden}",
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                        target, sql.Identifier(hidden), user_expression(self.column.default)
                    ),
                )
            )
        final_table, final_column = ctx.final_name_of(physical, hidden)
        if not self.column.nullable:
            nn = not_null_check_name(self.column.name)
            expand, validate, contract = not_null_steps(schema, physical, hidden, nn, final_table, final_column)
            plan.expand += expand
            plan.validate += validate
            plan.contract += contract
        if self.column.unique:
            name = unique_name(before.name, self.column.name)
            plan.expand.append(create_index_concurrently(schema, physical, name, [hidden], unique=True))
            plan.contract.append(attach_unique_index(schema, final_table, name))
        if self.column.references:
            ref = ctx.before.tables[self.column.references.table]
            ref_col = ref.column(self.column.references.column)
            assert ref_col is not None
            name = fk_name(before.name, self.column.name)
            plan.expand.append(
                add_foreign_key_not_valid(
                    schema, physical, name, [hidden], ref.physical, [ref_col.physical], self.column.references.on_delete
                )
            )
            plan.validate.append(validate_constraint(schema, physical, name))
        if self.column.check:
            name = f"{before.name}_{self.column.name}_check"[:63]
            after = ctx.after.tables[self.table]
            check_at_contract(plan, schema, physical, final_table, name, self.column.check, after, "column.check")
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
        return plan
