"""drop_table: green stops seeing the table at expand; blue keeps using it until contract drops it."""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog
from liveshift.ddl.statements import drop_constraint
from liveshift.operations.base import OpContext, OperationBase, OpPlan, replace_table


class DropTable(OperationBase):
    op_name: ClassVar[str] = "drop_table"
    op: Literal["drop_table"] = "drop_table"
    table: str

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        kept = {t.physical for t in catalog.tables.values()} - {table.physical}
        for fk in table.referenced_by:
            if fk.schema_name != catalog.schema_name or fk.table in kept:
                raise self.fail(
                    "table",
                    f"table {self.table!r} is referenced by foreign key {fk.name!r} of table "
                    f"{fk.schema_name}.{fk.table}; drop that constraint (or that table) first",
                )
        for other in catalog.tables.values():
            if other.physical == table.physical:
                continue
            for con in other.constraints:
                if con.kind == "foreign_key" and con.ref_table in (table.name, table.physical):
                    raise self.fail(
                        "table",
                        f"table {self.table!r} is referenced by foreign key {con.name!r} of table {other.name!r}; "
                        "drop that constraint first",
                    )

    def apply(self, catalog: Catalog) -> Catalog:
        return replace_table(catalog, self.table, None)

    def plan(self, ctx: OpContext) -> OpPlan:
        # green's views omit the table; contract drops it structurally (it is not in the final catalog).
        # Foreign keys into it from tables this migration also drops go first, whatever order those drops run in.
        table = ctx.before.tables[self.table]
        gone = {t for t in ctx.physical.tables if not _kept(ctx, t)}
        return OpPlan(
            removes=[(table.physical, None, None)],
            contract_first=[
                drop_constraint(ctx.schema, fk.table, fk.name)
                for fk in table.referenced_by
                if fk.schema_name == ctx.schema and fk.table in gone and fk.table != table.physical
            ],
        )


def _kept(ctx: OpContext, physical: str) -> bool:
    return any(t.physical == physical for t in ctx.final.tables.values())
