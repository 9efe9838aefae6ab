"""create_index: built CONCURRENTLY at expand (reads and writes continue); rollback drops it concurrently.

The index gets its final name at once; contract has nothing left to do (renames of its table
or columns carry it along).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Index
from liveshift.ddl.statements import create_index_concurrently, drop_index_concurrently
from liveshift.operations.base import ExpressionProbe, OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.create_table import relation_names, stored_shape
from liveshift.operations.partitioned_index import partition_key_missing, partitioned_index_steps


class CreateIndex(OperationBase):
    op_name: ClassVar[str] = "create_index"
    op: Literal["create_index"] = "create_index"
    name: str = Field(min_length=1, max_length=63)
    table: str
    columns: list[str] = Field(min_length=1)
    unique: bool = False
    method: Literal["btree", "hash", "gin", "gist", "brin"] = "btree"
    where: str | None = Field(None, min_length=1)

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if self.name in relation_names(catalog):
            raise self.fail("name", f"a relation named {self.name!r} already exists in schema {catalog.schema_name}")
        for i, name in enumerate(self.columns):
            self.require_column(table, name, f"columns[{i}]")
        if self.unique and self.method != "btree":
            raise self.fail("unique", f"only btree indexes can be unique, not {self.method}")
        if self.unique and table.partitioning is not None:
            missing = partition_key_missing(table, self.columns)
            if missing:
                raise self.fail("columns", missing)

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        index = Index(
            name=self.name, columns=list(self.columns), unique=self.unique, method=self.method, predicate=self.where
        )
        return replace_table(catalog, self.table, table.model_copy(update={"indexes": [*table.indexes, index]}))

    def plan(self, ctx: OpContext) -> OpPlan:
        if self.name in relation_names(ctx.physical):
            raise self.fail("name", f"a relation named {self.name!r} exists in schema {ctx.schema} until contract")
        table = ctx.before.tables[self.table]
        physical_columns = [table.column(c).physical for c in self.columns]  # type: ignore[union-attr]
        plan = OpPlan()
        options = {"unique": self.unique, "method": self.method, "where": self.where}
        if table.partitioning is not None:
            expand, rollback = partitioned_index_steps(
                ctx.schema, table.physical, table.partitioning, self.name, physical_columns, **options
            )
            plan.expand += expand
            plan.rollback += rollback
        else:
            build = create_index_concurrently(ctx.schema, table.physical, self.name, physical_columns, **options)
            plan.expand.append(build)
            plan.rollback.append(drop_index_concurrently(ctx.schema, self.name))
        if self.where is not None:
            # the predicate runs against the table, not a view: it sees the columns as stored now
            plan.expressions.append(
                ExpressionProbe("where", table.physical, self.where, stored_shape(ctx, table), "boolean")
            )
        return plan
