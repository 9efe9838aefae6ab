"""comment: a comment on a table, a column or a constraint, set (or removed) at contract.

A comment changes nothing either version reads or writes, so it waits for contract, where the table, the column
and the constraint have their final names (a column the same file adds is renamed into place there); rollback has
nothing to undo. COMMENT takes SHARE UPDATE EXCLUSIVE on the table: reads and writes continue. The same comment
fields of create_table, add_column and alter_column plan the same step (`comment_step`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import comment_on
from liveshift.ddl.steps import Step
from liveshift.operations.base import OpContext, OperationBase, OpPlan


def comment_step(ctx: OpContext, physical_table: str, target: tuple[str, str] | None, text: str | None) -> Step:
    """The contract step commenting on `physical_table` or on `target` of it: ("COLUMN", physical column) or
    ("CONSTRAINT", name), under the names they have after contract."""
    if target is not None and target[0] == "COLUMN":
        final_table, final_column = ctx.final_name_of(physical_table, target[1])
        return comment_on(ctx.schema, final_table, ("COLUMN", final_column), text)
    final_table, _ = ctx.final_name_of(physical_table)
    return comment_on(ctx.schema, final_table, target, text)


class Comment(OperationBase):
    op_name: ClassVar[str] = "comment"
    op: Literal["comment"] = "comment"
    table: str
    column: str | None = Field(None, min_length=1, max_length=63)
    constraint: str | None = Field(None, min_length=1, max_length=63)
    comment: str | None = Field(description="the comment; null removes it")

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if self.column is not None and self.constraint is not None:
            raise self.fail("constraint", "give either column or constraint (or neither: the table)")
        if self.column is not None:
            self.require_column(table, self.column)
        if self.constraint is not None and table.constraint(self.constraint) is None:
            raise self.fail("constraint", f"constraint {self.constraint!r} does not exist on table {self.table!r}")

    def apply(self, catalog: Catalog) -> Catalog:
        return catalog  # comments are not part of the logical shape

    def plan(self, ctx: OpContext) -> OpPlan:
        table = ctx.before.tables[self.table]
        target: tuple[str, str] | None = None
        if self.column is not None:
            column = table.column(self.column)
            assert column is not None
            target = ("COLUMN", column.physical)
        elif self.constraint is not None:
            target = ("CONSTRAINT", self.constraint)
        return OpPlan(contract=[comment_step(ctx, table.physical, target, self.comment)])
