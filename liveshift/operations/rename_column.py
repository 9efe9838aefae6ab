"""rename_column: green sees the physical column under its new name; contract renames it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Table
from liveshift.operations.base import OpContext, OperationBase, OpPlan


def _renamed(names: list[str], old: str, new: str) -> list[str]:
    return [new if n == old else n for n in names]


def with_renamed_column(catalog: Catalog, table_name: str, old: str, new: str) -> Catalog:
    """The logical catalog with `old` called `new`, in the table and in what refers to it."""
    tables: dict[str, Table] = {}
    for name, table in catalog.tables.items():
        constraints = []
        for con in table.constraints:
            update = {}
            if name == table_name:
                update["columns"] = _renamed(con.columns, old, new)
            if con.ref_table == catalog.tables[table_name].physical or con.ref_table == table_name:
                update["ref_columns"] = _renamed(con.ref_columns, old, new)
            constraints.append(con.model_copy(update=update))
        update_table: dict[str, object] = {"constraints": constraints}
        if name == table_name:
            update_table["columns"] = [
                c.model_copy(update={"name": new, "stored_as": c.physical}) if c.name == old else c
                for c in table.columns
            ]
            update_table["indexes"] = [
                i.model_copy(update={"columns": [new if c == old else c for c in i.columns]}) for i in table.indexes
            ]
            update_table["primary_key"] = _renamed(table.primary_key, old, new)
        tables[name] = table.model_copy(update=update_table)
    return catalog.model_copy(update={"tables": tables})


class RenameColumn(OperationBase):
    op_name: ClassVar[str] = "rename_column"
    op: Literal["rename_column"] = "rename_column"
    table: str
    column: str
    to: str = Field(min_length=1, max_length=63)

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        self.require_column(table, self.column)
        if self.to == self.column:
            raise self.fail("to", f"column {self.column!r} already has that name")
        if table.column(self.to) is not None:
            raise self.fail("to", f"column {self.to!r} already exists in table {self.table!r}")
        physical_names = {c.physical for c in table.columns if c.name != self.column}
        if self.to in physical_names:
            raise self.fail("to", f"column {self.to!r} is still stored in table {self.table!r} until contract")

    def apply(self, catalog: Catalog) -> Catalog:
        return with_renamed_column(catalog, self.table, self.column, self.to)

    def plan(self, ctx: OpContext) -> OpPlan:
        # green's views expose the physical column under the new name; contract renames it
        # structurally (the logical column is stored_as its old physical name)
        return OpPlan()
