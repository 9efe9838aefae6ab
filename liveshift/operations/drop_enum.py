"""drop_enum: DROP TYPE at contract, once no column of the final shape uses it (catalog only).

Refused at plan while a column of the schema's tables (after the operations before it in the file), or anything
else (a function, a domain, a table of another schema), still uses the type; rollback has nothing to undo.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import drop_type
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.operations.enum_types import enum_columns, require_enum


class DropEnum(OperationBase):
    op_name: ClassVar[str] = "drop_enum"
    changes_types: ClassVar[bool] = True
    op: Literal["drop_enum"] = "drop_enum"
    name: str = Field(min_length=1, max_length=63)

    def check(self, catalog: Catalog) -> None:
        require_enum(catalog, self.name, self.op_name, "name")
        used = [f"{t}.{c}" for t, c, _ in enum_columns(catalog, self.name)]
        used += catalog.enum_dependents.get(self.name, [])
        if used:
            raise self.fail("name", f"enum type {self.name!r} is still used by {', '.join(used)}")

    def apply(self, catalog: Catalog) -> Catalog:
        return catalog.model_copy(update={"enums": {k: v for k, v in catalog.enums.items() if k != self.name}})

    def plan(self, ctx: OpContext) -> OpPlan:
        return OpPlan(contract=[drop_type(ctx.schema, self.name)])
