"""add_column: a hidden nullable column only green sees; filled by `up` for blue writes and the backfill.

An identity column is filled from a sequence instead (and becomes the identity at contract); a virtual generated
column is added as such (no rewrite); a stored generated one cannot be added without a rewrite and is refused.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, Literal

from psycopg import sql

from liveshift.catalog import Catalog, Table
from liveshift.ddl.statements import (
    add_hidden_column,
    add_virtual_column,
    create_fill_sequence,
    identity_from_fill_sequence,
    not_null_steps,
    set_default,
)
from liveshift.ddl.steps import qualified
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
        self._check_generated(table)
        filled = self.up is not None or self.column.default is not None or self.column.identity is not None
        if not self.column.nullable and not filled and self.column.generated is None:
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

    def _check_generated(self, table: Table) -> None:
        """identity and generated on a live table: what can be added without a rewrite."""
        generated = self.column.generated_def
        if self.column.identity is not None and self.up is not None:
            raise self.fail("up", "an identity column is filled from its sequence; give no 'up'")
        if generated is None:
            return
        if generated.stored:
            raise self.fail(
                "column.generated",
                "PostgreSQL adds a stored generated column to an existing table only by rewriting the table under "
                "ACCESS EXCLUSIVE, and cannot turn a filled column into a generated one later: use "
                "'generated: {expression: …, stored: false}' (virtual, PostgreSQL 18: no rewrite), or a plain "
                "column with 'up'",
            )
        if self.up is not None or self.column.unique or self.column.references or not self.column.nullable:
            raise self.fail(
                "column.generated",
                "a virtual generated column is computed when read: no 'up', unique, references or NOT NULL",
            )
        if any(c.stored_as for c in table.columns):
            raise self.fail(
                "column.generated",
                f"this migration changes other columns of {self.table!r} already; the generation expression reads "
                "the stored columns: add the generated column in a migration of its own",
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
        generated = self.column.generated_def
        if generated is not None:
            expression, shape = generated.expression, tuple(before.columns)
            plan.structure.append(add_virtual_column(schema, physical, hidden, self.column.type, expression))
            plan.expressions.append(ExpressionProbe("column.generated", physical, expression, shape, self.column.type))
        else:
            plan.structure.append(add_hidden_column(schema, physical, hidden, self.column.type))
        if self.column.default is not None:
            plan.expand.append(set_default(schema, physical, hidden, self.column.default))
        final_table, final_column = ctx.final_name_of(physical, hidden)
        if not self.column.nullable or self.column.identity is not None:
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
        if self.column.identity is not None:
            self._plan_identity(ctx, plan, hidden)
        else:
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

    def _plan_identity(self, ctx: OpContext, plan: OpPlan, hidden: str) -> None:
        """Filled from a sequence of the identity's options: blue's and green's inserts draw from it (the hidden
        column's default), the backfill too (volatile: each row once); contract (after SET NOT NULL) makes the
        column an identity continuing from it. Nothing rewrites the table."""
        identity = self.column.identity_def
        assert identity is not None
        schema, physical = ctx.schema, ctx.before.tables[self.table].physical
        options = identity.sequence_options()
        sequence = hidden_name("seq", f"{physical}_{self.column.name}")
        # before the trigger and the NOT NULL check (structure): from the first insert on, each row draws a number
        plan.structure.append(create_fill_sequence(schema, physical, hidden, sequence, self.column.type, options))
        draw = sql.SQL("nextval({}::regclass)").format(sql.Literal(qualified(schema, sequence).as_string(None)))
        plan.structure.append(set_default(schema, physical, hidden, draw.as_string(None)))
        # the backfill finds the sequence through its column: it does not exist yet when plan compiles this
        owned = sql.SQL("nextval(pg_get_serial_sequence({}, {})::regclass)").format(
            sql.Literal(qualified(schema, physical).as_string(None)), sql.Literal(hidden)
        )
        variables = tuple(ctx.before.tables[self.table].columns)
        fill = Transform("up", physical, hidden, self.column.type, owned.as_string(None), variables, ctx.index)
        plan.transforms.append(replace(fill, field="column.identity", sample=False))
        plan.types.append(("column.type", self.column.type))
        final_table, final_column = ctx.final_name_of(physical, hidden)
        step = identity_from_fill_sequence(schema, final_table, final_column, sequence, identity.always, options)
        plan.contract.append(step)

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
