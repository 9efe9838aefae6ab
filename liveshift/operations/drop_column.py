"""drop_column: green stops seeing the column at expand; contract drops it.

Until contract the column still exists for blue. Green writes cannot name it, so when it is
NOT NULL without a default they need `down` (an expression over the green row) to fill it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Column, Table
from liveshift.operations.base import OpContext, OperationBase, OpPlan, Transform, replace_table


def fills_itself(column: Column) -> bool:
    """Whether an insert that omits the column still gives it a value."""
    return column.default is not None or bool(column.identity) or column.generated


def without_column(table: Table, name: str) -> Table:
    """The logical table once `name` is gone, with the indexes and constraints that used it."""
    return table.model_copy(
        update={
            "columns": [c for c in table.columns if c.name != name],
            "indexes": [i for i in table.indexes if name not in i.columns],
            "constraints": [c for c in table.constraints if name not in c.columns],
            "primary_key": [] if name in table.primary_key else list(table.primary_key),
        }
    )


class DropColumn(OperationBase):
    op_name: ClassVar[str] = "drop_column"
    op: Literal["drop_column"] = "drop_column"
    table: str
    column: str
    down: str | None = Field(None, min_length=1)
    drop_dependents: bool = Field(
        False,
        description="drop the views, functions, policies, triggers, rules and statistics objects that read the "
        "column, at contract (as DROP COLUMN … CASCADE would); without it they are refused at plan",
    )

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        column = self.require_column(table, self.column)
        for fk in table.referenced_by:
            if self.column in fk.ref_columns:
                raise self.fail(
                    "column",
                    f"column {self.column!r} is referenced by foreign key {fk.name!r} of table "
                    f"{fk.schema_name}.{fk.table}; drop that constraint first",
                )
        if not column.nullable and not fills_itself(column) and self.down is None:
            raise self.fail(
                "down",
                f"column {self.column!r} is NOT NULL without a default, so rows written by the new version "
                "could not be stored: give 'down' (an expression over the new row) to fill it until contract",
            )

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        return replace_table(catalog, self.table, without_column(table, self.column))

    def plan(self, ctx: OpContext) -> OpPlan:
        before = ctx.before.tables[self.table]
        column = before.column(self.column)
        assert column is not None
        plan = OpPlan(removes=[(before.physical, column.physical, None)], drop_dependents=self.drop_dependents)
        # contract drops the physical column structurally (it is not in the final catalog)
        if self.down is not None:
            plan.transforms.append(
                Transform(
                    "down",
                    before.physical,
                    column.physical,
                    column.type,
                    self.down,
                    tuple(ctx.after.tables[self.table].columns),
                    ctx.index,
                    field="down",
                )
            )
        return plan
