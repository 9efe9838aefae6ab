"""rename_table: green sees the table under its new name at once; contract renames it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Table
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.operations.create_table import relation_names


class RenameTable(OperationBase):
    op_name: ClassVar[str] = "rename_table"
    op: Literal["rename_table"] = "rename_table"
    table: str
    to: str = Field(min_length=1, max_length=63)

    def tables(self) -> list[str]:
        return [self.table, self.to]

    def check(self, catalog: Catalog) -> None:
        self.require_table(catalog, self.table)
        if self.to == self.table:
            raise self.fail("to", f"table {self.table!r} already has that name")
        if self.to in relation_names(catalog):
            raise self.fail("to", f"a relation named {self.to!r} already exists in schema {catalog.schema_name}")

    def apply(self, catalog: Catalog) -> Catalog:
        old = catalog.tables[self.table]
        tables: dict[str, Table] = {}
        for name, table in catalog.tables.items():
            constraints = [
                c.model_copy(update={"ref_table": self.to}) if c.ref_table == self.table else c
                for c in table.constraints
            ]
            if name == self.table:
                tables[self.to] = table.model_copy(
                    update={"name": self.to, "stored_as": old.physical, "constraints": constraints}
                )
            else:
                tables[name] = table.model_copy(update={"constraints": constraints})
        return catalog.model_copy(update={"tables": tables})

    def plan(self, ctx: OpContext) -> OpPlan:
        # green's view carries the new name; contract renames the table structurally (Table.stored_as)
        return OpPlan()
