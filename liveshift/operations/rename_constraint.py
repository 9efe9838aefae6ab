"""rename_constraint: a constraint's new name, given at contract.

Neither version reads a constraint's name, so the rename waits for contract (a brief ACCESS EXCLUSIVE, catalog
only); rollback has nothing to undo. A unique, primary key or exclusion constraint's index takes the new name
with it, as PostgreSQL does. Later operations of the file see the new name.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import rename_constraint
from liveshift.operations.base import OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.create_table import relation_names

_WITH_INDEX = ("unique", "primary_key", "exclusion")


class RenameConstraint(OperationBase):
    op_name: ClassVar[str] = "rename_constraint"
    op: Literal["rename_constraint"] = "rename_constraint"
    table: str
    name: str = Field(min_length=1, max_length=63)
    to: str = Field(min_length=1, max_length=63)

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        constraint = table.constraint(self.name)
        if constraint is None:
            raise self.fail("name", f"constraint {self.name!r} does not exist on table {self.table!r}")
        if table.constraint(self.to) is not None:
            raise self.fail("to", f"a constraint named {self.to!r} already exists on table {self.table!r}")
        if constraint.kind in _WITH_INDEX and self.to in relation_names(catalog):
            raise self.fail("to", f"its index takes the name too, and a relation named {self.to!r} exists")

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        constraints = [c.model_copy(update={"name": self.to}) if c.name == self.name else c for c in table.constraints]
        indexes = [
            i.model_copy(update={"name": self.to, "constraint": self.to}) if i.constraint == self.name else i
            for i in table.indexes
        ]
        return replace_table(
            catalog, self.table, table.model_copy(update={"constraints": constraints, "indexes": indexes})
        )

    def plan(self, ctx: OpContext) -> OpPlan:
        final_table, _ = ctx.final_name_of(ctx.before.tables[self.table].physical)
        return OpPlan(contract=[rename_constraint(ctx.schema, final_table, self.name, self.to)])
