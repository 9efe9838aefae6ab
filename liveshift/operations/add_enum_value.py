"""add_enum_value: ALTER TYPE … ADD VALUE IF NOT EXISTS [BEFORE | AFTER], at expand.

The value is added outside a transaction block (committed on its own before green writes it), catalog only, no
table lock. Both versions share the type, so blue can read a row green wrote with the new value. PostgreSQL
cannot remove a value from an enum type: rollback leaves it in place (unused by blue; a later run of the same
migration skips it, IF NOT EXISTS).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import add_enum_value
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.operations.enum_types import require_enum, require_label


class AddEnumValue(OperationBase):
    op_name: ClassVar[str] = "add_enum_value"
    changes_types: ClassVar[bool] = True
    op: Literal["add_enum_value"] = "add_enum_value"
    enum: str = Field(min_length=1, max_length=63)
    value: str = Field(min_length=1)
    before: str | None = Field(None, min_length=1, description="the existing value it sorts before")
    after: str | None = Field(None, min_length=1, description="the existing value it sorts after")
    if_not_exists: bool = Field(False, description="a value the type has already: nothing to do, not refused")

    def _present(self, catalog: Catalog) -> bool:
        return self.if_not_exists and self.value in catalog.enums.get(self.enum, [])

    def check(self, catalog: Catalog) -> None:
        labels = require_enum(catalog, self.enum, self.op_name)
        if len(self.value.encode()) > 63:
            raise self.fail("value", "an enum label has 1 to 63 bytes")
        if self._present(catalog):
            return
        if self.value in labels:
            raise self.fail("value", f"enum type {self.enum!r} already has value {self.value!r}")
        if self.before is not None and self.after is not None:
            raise self.fail("after", "give before or after, not both")
        for field_name in ("before", "after"):
            neighbour = getattr(self, field_name)
            if neighbour is not None:
                require_label(labels, neighbour, self.enum, self.op_name, field_name)

    def apply(self, catalog: Catalog) -> Catalog:
        if self._present(catalog):
            return catalog
        labels = list(catalog.enums[self.enum])
        at = len(labels)
        if self.before is not None:
            at = labels.index(self.before)
        elif self.after is not None:
            at = labels.index(self.after) + 1
        labels.insert(at, self.value)
        return catalog.model_copy(update={"enums": {**catalog.enums, self.enum: labels}})

    def plan(self, ctx: OpContext) -> OpPlan:
        if self._present(ctx.before):
            return OpPlan()
        return OpPlan(expand=[add_enum_value(ctx.schema, self.enum, self.value, self.before, self.after)])
