"""create_index: built CONCURRENTLY at expand (reads and writes continue); rollback drops it concurrently.

The index gets its final name at once; contract has nothing left to do (renames of its table
or columns carry it along).
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from liveshift.catalog import Catalog, Index, Table
from liveshift.ddl.statements import IndexOptions, KeyPart, create_index_concurrently, drop_index_concurrently
from liveshift.operations.base import ExpressionProbe, OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.create_table import relation_names, stored_shape
from liveshift.operations.partitioned_index import partition_key_missing, partitioned_index_steps

# an operator class, optionally schema-qualified: written as identifiers, so only plain names
OPCLASS = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$"
STORAGE_PARAMETER = r"^[a-z_][a-z0-9_.]*$"
_INCLUDE_METHODS = {"btree", "gist", "spgist"}


class IndexColumn(BaseModel):
    """A key column with its options: `{name, opclass?, collation?, order?, nulls?}`."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    opclass: str | None = Field(None, pattern=OPCLASS)
    collation: str | None = Field(None, min_length=1, max_length=63)
    order: Literal["asc", "desc"] | None = None
    nulls: Literal["first", "last"] | None = None

    def key_part(self, physical: str) -> KeyPart:
        upper = (self.order or "").upper() or None, (self.nulls or "").upper() or None
        return KeyPart(physical, self.collation, self.opclass, *upper)


class CreateIndex(OperationBase):
    op_name: ClassVar[str] = "create_index"
    op: Literal["create_index"] = "create_index"
    name: str = Field(min_length=1, max_length=63)
    table: str
    columns: list[IndexColumn | str] = Field(min_length=1)
    unique: bool = False
    method: Literal["btree", "hash", "gin", "gist", "brin", "spgist"] = "btree"
    where: str | None = Field(None, min_length=1)
    include: list[str] = Field(default_factory=list)
    nulls_not_distinct: bool = False
    storage_parameters: dict[str, str | int | float | bool] = Field(default_factory=dict)
    tablespace: str | None = Field(None, min_length=1, max_length=63)

    def _keys(self) -> list[IndexColumn]:
        return [IndexColumn(name=c) if isinstance(c, str) else c for c in self.columns]

    def column_names(self) -> list[str]:
        return [k.name for k in self._keys()]

    def _check_options(self, catalog: Catalog) -> None:
        table = catalog.tables[self.table]
        for i, key in enumerate(self._keys()):
            if (key.order or key.nulls) and self.method != "btree":
                raise self.fail(f"columns[{i}]", f"order and nulls apply to btree indexes only, not {self.method}")
        for i, name in enumerate(self.include):
            self.require_column(table, name, f"include[{i}]")
        if self.include and self.method not in _INCLUDE_METHODS:
            raise self.fail("include", f"INCLUDE applies to btree, gist and spgist indexes, not {self.method}")
        if self.nulls_not_distinct and not self.unique:
            raise self.fail("nulls_not_distinct", "applies to a unique index only (unique: true)")
        for name in self.storage_parameters:
            if not re.match(STORAGE_PARAMETER, name):
                raise self.fail("storage_parameters", f"{name!r} is not a storage parameter's name")

    def _options(self, table: Table) -> IndexOptions | None:
        keys = tuple(k.key_part(table.column(k.name).physical) for k in self._keys())  # type: ignore[union-attr]
        options = IndexOptions(
            keys=keys if any(k != KeyPart(k.column) for k in keys) else (),
            include=tuple(table.column(c).physical for c in self.include),  # type: ignore[union-attr]
            nulls_not_distinct=self.nulls_not_distinct,
            storage=tuple(
                (k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in self.storage_parameters.items()
            ),
            tablespace=self.tablespace,
        )
        return None if options == IndexOptions() else options

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if self.name in relation_names(catalog):
            raise self.fail("name", f"a relation named {self.name!r} already exists in schema {catalog.schema_name}")
        for i, name in enumerate(self.column_names()):
            self.require_column(table, name, f"columns[{i}]")
        self._check_options(catalog)
        if self.unique and self.method != "btree":
            raise self.fail("unique", f"only btree indexes can be unique, not {self.method}")
        if self.unique and table.partitioning is not None:
            missing = partition_key_missing(table, self.column_names())
            if missing:
                raise self.fail("columns", missing)

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        index = Index(
            name=self.name, columns=self.column_names(), unique=self.unique, method=self.method, predicate=self.where
        )
        return replace_table(catalog, self.table, table.model_copy(update={"indexes": [*table.indexes, index]}))

    def plan(self, ctx: OpContext) -> OpPlan:
        if self.name in relation_names(ctx.physical):
            raise self.fail("name", f"a relation named {self.name!r} exists in schema {ctx.schema} until contract")
        table = ctx.before.tables[self.table]
        physical_columns = [table.column(c).physical for c in self.column_names()]  # type: ignore[union-attr]
        plan = OpPlan()
        options = {"unique": self.unique, "method": self.method, "where": self.where, "options": self._options(table)}
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
