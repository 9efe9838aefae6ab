"""drop_constraint: the constraint keeps holding for both versions until contract drops it."""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog
from liveshift.ddl.statements import drop_constraint
from liveshift.operations.base import OpContext, OperationBase, OpPlan, replace_table


class DropConstraint(OperationBase):
    op_name: ClassVar[str] = "drop_constraint"
    op: Literal["drop_constraint"] = "drop_constraint"
    table: str
    name: str

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        constraint = table.constraint(self.name)
        if constraint is None:
            raise self.fail("name", f"constraint {self.name!r} does not exist on table {self.table!r}")
        if constraint.kind in ("primary_key", "unique"):
            for fk in table.referenced_by:
                if sorted(fk.ref_columns) == sorted(constraint.columns):
                    raise self.fail(
                        "name",
                        f"foreign key {fk.name!r} of table {fk.schema_name}.{fk.table} depends on {self.name!r}; "
                        "drop it first",
                    )

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        constraint = table.constraint(self.name)
        assert constraint is not None
        update: dict[str, object] = {
            "constraints": [c for c in table.constraints if c.name != self.name],
            # a unique or primary key constraint takes its index with it
            "indexes": [i for i in table.indexes if i.constraint != self.name],
        }
        if constraint.kind == "primary_key":
            update["primary_key"] = []
        return replace_table(catalog, self.table, table.model_copy(update=update))

    def plan(self, ctx: OpContext) -> OpPlan:
        final_table, _ = ctx.final_name_of(ctx.before.tables[self.table].physical)
        return OpPlan(contract=[drop_constraint(ctx.schema, final_table, self.name)])
