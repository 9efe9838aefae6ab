"""add_constraint: a CHECK, UNIQUE or FOREIGN KEY without a long lock.

check and foreign_key are added NOT VALID at expand (they hold for new writes of both versions
from then on) and VALIDATEd after the backfill (reads and writes continue). unique is a unique
index built CONCURRENTLY at expand and attached as the constraint at contract; on a partitioned table,
where PostgreSQL attaches no constraint USING INDEX, the constraint is built per partition and attached at
expand (partitioned_index.partitioned_unique_steps).

With `up` (and `down`), rows that would violate the constraint are fixed into a hidden copy of the column,
which carries the constraint and takes the column's place at contract (constraint_fix.py); `not_null` always
goes that way.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Constraint, Index, Table
from liveshift.ddl.statements import (
    add_check_not_valid,
    add_foreign_key_not_valid,
    attach_unique_index,
    create_index_concurrently,
    drop_constraint,
    drop_index_concurrently,
    validate_constraint,
)
from liveshift.operations.base import ExpressionProbe, OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.columns import ForeignKeyOptions
from liveshift.operations.constraint_fix import apply_fixed, check_fixed, plan_fixed
from liveshift.operations.create_table import has_unique_key, relation_names, stored_shape
from liveshift.operations.partitioned_foreign_key import (
    partitioned_foreign_key_rollback,
    partitioned_foreign_key_steps,
    per_partition,
)
from liveshift.operations.partitioned_index import partition_key_missing, partitioned_unique_steps
from liveshift.shape import user_expression


class References(ForeignKeyOptions):
    """The referenced table and columns, and the key's options (on_delete, on_update, match, deferrable, …)."""

    table: str
    columns: list[str] = Field(min_length=1)


class AddConstraint(OperationBase):
    op_name: ClassVar[str] = "add_constraint"
    op: Literal["add_constraint"] = "add_constraint"
    table: str
    name: str = Field(min_length=1, max_length=63)
    type: Literal["check", "unique", "foreign_key", "not_null"]
    # `check` in the file; renamed here because `check` is the protocol's method
    check_expr: str | None = Field(None, alias="check", min_length=1)
    columns: list[str] | None = Field(None, min_length=1)
    references: References | None = None
    up: dict[str, str] | None = Field(
        None, description="column -> SQL over blue's row giving a value that satisfies the constraint"
    )
    down: dict[str, str] | None = Field(None, description="column -> SQL over green's row for blue's column")

    @property
    def fixes_rows(self) -> bool:
        """Through a hidden copy of the column (constraint_fix.py) rather than on the column itself."""
        return self.up is not None or self.down is not None or self.type == "not_null"

    def tables(self) -> list[str]:
        return sorted({self.table, *([self.references.table] if self.references else [])})

    def _require_fields(self) -> None:
        wanted = {
            "check": {"check", "columns"} if self.fixes_rows else {"check"},
            "unique": {"columns"},
            "foreign_key": {"columns", "references"},
            "not_null": {"columns"},
        }[self.type]
        given_fields = {"check": self.check_expr, "columns": self.columns, "references": self.references}
        for field_name, value in given_fields.items():
            given = value is not None
            if field_name in wanted and not given:
                raise self.fail(field_name, f"a {self.type} constraint needs '{field_name}'")
            if field_name not in wanted and given:
                raise self.fail(field_name, f"'{field_name}' does not apply to a {self.type} constraint")

    def check(self, catalog: Catalog) -> None:
        self._require_fields()
        table = self.require_table(catalog, self.table)
        if self.fixes_rows:
            if table.constraint(self.name) is not None:
                raise self.fail("name", f"constraint {self.name!r} already exists on table {self.table!r}")
            check_fixed(self, catalog)
            return
        if table.constraint(self.name) is not None:
            raise self.fail("name", f"constraint {self.name!r} already exists on table {self.table!r}")
        if self.type == "unique" and self.name in relation_names(catalog):
            raise self.fail("name", f"a relation named {self.name!r} already exists in schema {catalog.schema_name}")
        for i, name in enumerate(self.columns or []):
            self.require_column(table, name, f"columns[{i}]")
        if self.type == "unique" and table.partitioning is not None:
            missing = partition_key_missing(table, list(self.columns or []))
            if missing:
                raise self.fail("columns", missing)
        if self.references is not None:
            assert self.columns is not None
            ref = self.require_table(catalog, self.references.table, "references.table")
            for i, name in enumerate(self.references.columns):
                self.require_column(ref, name, f"references.columns[{i}]")
            if len(self.references.columns) != len(self.columns):
                raise self.fail("references.columns", "give as many referenced columns as 'columns'")
            problem = self.references.option_problem(self.columns)
            if problem:
                raise self.fail(f"references.{problem[0]}", problem[1])
            if not has_unique_key(ref, self.references.columns):
                raise self.fail(
                    "references.columns",
                    f"table {ref.name!r} has no primary key or unique index on exactly "
                    f"({', '.join(self.references.columns)}), which a foreign key needs",
                )

    def apply(self, catalog: Catalog) -> Catalog:
        if self.fixes_rows:
            return apply_fixed(self, catalog)
        table = catalog.tables[self.table]
        constraint = Constraint(
            name=self.name,
            kind=self.type,
            definition="",
            columns=list(self.columns or []),
            ref_table=self.references.table if self.references else None,
            ref_columns=list(self.references.columns) if self.references else [],
        )
        indexes = list(table.indexes)
        if self.type == "unique":
            indexes.append(Index(name=self.name, columns=list(self.columns or []), unique=True, constraint=self.name))
        new_table = table.model_copy(update={"constraints": [*table.constraints, constraint], "indexes": indexes})
        return replace_table(catalog, self.table, new_table)

    def plan(self, ctx: OpContext) -> OpPlan:
        if self.fixes_rows:
            return plan_fixed(self, ctx)
        schema, table = ctx.schema, ctx.before.tables[self.table]
        columns = [table.column(c).physical for c in self.columns or []]  # type: ignore[union-attr]
        final_table, _ = ctx.final_name_of(table.physical)
        plan = OpPlan()
        if self.type == "unique":
            self._plan_unique(ctx, plan, table, columns)
            return plan
        if self.type == "check":
            assert self.check_expr is not None
            description = f"add check {self.name} on {table.physical} NOT VALID (holds for new writes)"
            expression = user_expression(self.check_expr)
            plan.expand.append(add_check_not_valid(schema, table.physical, self.name, expression, description))
            # CHECK runs on the table itself: it sees the columns as stored before this migration
            plan.expressions.append(
                ExpressionProbe("check", table.physical, self.check_expr, stored_shape(ctx, table), "boolean")
            )
        elif self._plan_foreign_key(ctx, plan, table, columns):
            return plan
        plan.validate.append(validate_constraint(schema, table.physical, self.name))
        # a no-op when the validate phase ran; keeps contract's result the plain ALTER's either way
        plan.contract.append(validate_constraint(schema, final_table, self.name))
        plan.rollback.append(drop_constraint(schema, table.physical, self.name))
        return plan

    def _plan_foreign_key(self, ctx: OpContext, plan: OpPlan, table: Table, columns: list[str]) -> bool:
        """The key NOT VALID at expand; True when it is planned whole (per partition, partitioned_foreign_key.py),
        False when it is validated as a CHECK is."""
        assert self.references is not None
        ref = ctx.before.tables[self.references.table]
        ref_columns = [ref.column(c).physical for c in self.references.columns]  # type: ignore[union-attr]
        options = self.references.options_sql({c.name: c.physical for c in table.columns})
        target = (self.name, columns, ref.physical, ref_columns, options)
        if table.partitioning is None or not per_partition(ctx.physical):
            plan.expand.append(add_foreign_key_not_valid(ctx.schema, table.physical, *target))
            return False
        expand, validate = partitioned_foreign_key_steps(ctx.schema, table.physical, table.partitioning, *target)
        plan.expand += expand
        plan.validate += validate
        plan.rollback += partitioned_foreign_key_rollback(
            ctx.schema, table.physical, table.partitioning, self.name, ref.physical
        )
        return True

    def _plan_unique(self, ctx: OpContext, plan: OpPlan, table: Table, columns: list[str]) -> None:
        """A unique index CONCURRENTLY, attached as the constraint at contract; on a partitioned table, per
        partition at expand (partitioned_index.partitioned_unique_steps)."""
        schema = ctx.schema
        if self.name in relation_names(ctx.physical):
            raise self.fail("name", f"a relation named {self.name!r} exists in schema {schema} until contract")
        if table.partitioning is not None:
            expand, rollback = partitioned_unique_steps(schema, table.physical, table.partitioning, self.name, columns)
            plan.expand += expand
            plan.rollback += rollback
            return
        final_table, _ = ctx.final_name_of(table.physical)
        plan.expand.append(create_index_concurrently(schema, table.physical, self.name, columns, unique=True))
        plan.contract.append(attach_unique_index(schema, final_table, self.name))
        plan.rollback.append(drop_index_concurrently(schema, self.name))
