"""drop_index: the index keeps serving both versions until contract drops it CONCURRENTLY."""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog, Table
from liveshift.ddl.statements import drop_index_concurrently, drop_partitioned_index
from liveshift.operations.base import OpContext, OperationBase, OpPlan, replace_table


def table_of_index(catalog: Catalog, name: str) -> Table | None:
    return next((t for t in catalog.tables.values() if t.index(name) is not None), None)


class DropIndex(OperationBase):
    op_name: ClassVar[str] = "drop_index"
    op: Literal["drop_index"] = "drop_index"
    name: str

    def check(self, catalog: Catalog) -> None:
        table = table_of_index(catalog, self.name)
        if table is None:
            raise self.fail("name", f"index {self.name!r} does not exist in schema {catalog.schema_name}")
        index = table.index(self.name)
        assert index is not None
        if index.constraint or index.primary:
            raise self.fail(
                "name",
                f"index {self.name!r} backs constraint {index.constraint or self.name!r} of table {table.name!r}; "
                "use drop_constraint",
            )

    def apply(self, catalog: Catalog) -> Catalog:
        table = table_of_index(catalog, self.name)
        assert table is not None
        indexes = [i for i in table.indexes if i.name != self.name]
        return replace_table(catalog, table.name, table.model_copy(update={"indexes": indexes}))

    def plan(self, ctx: OpContext) -> OpPlan:
        table = table_of_index(ctx.before, self.name)
        if table is not None and table.partitioning is not None:  # PostgreSQL cannot drop it CONCURRENTLY
            return OpPlan(contract=[drop_partitioned_index(ctx.schema, table.physical, self.name)])
        return OpPlan(contract=[drop_index_concurrently(ctx.schema, self.name)])
