"""rename_enum_value: ALTER TYPE … RENAME VALUE at contract (catalog only, no table lock, no row rewritten).

Both versions share the type: renamed at expand, blue's writes of the old label would fail. So both read and
write the old label until contract, and every row reads the new one from then on (rows store the value, not
its label). Rollback has nothing to undo. A green that must write the new label during the migration needs a
type swap instead: remove_enum_value's mechanism.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import rename_enum_value
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.operations.enum_types import require_enum, require_label


class RenameEnumValue(OperationBase):
    op_name: ClassVar[str] = "rename_enum_value"
    changes_types: ClassVar[bool] = True
    op: Literal["rename_enum_value"] = "rename_enum_value"
    enum: str = Field(min_length=1, max_length=63)
    value: str = Field(min_length=1)
    to: str = Field(min_length=1)

    def check(self, catalog: Catalog) -> None:
        labels = require_enum(catalog, self.enum, self.op_name)
        require_label(labels, self.value, self.enum, self.op_name, "value")
        if self.to in labels:
            raise self.fail("to", f"enum type {self.enum!r} already has value {self.to!r}")
        if len(self.to.encode()) > 63:
            raise self.fail("to", "an enum label has 1 to 63 bytes")

    def apply(self, catalog: Catalog) -> Catalog:
        labels = [self.to if label == self.value else label for label in catalog.enums[self.enum]]
        return catalog.model_copy(update={"enums": {**catalog.enums, self.enum: labels}})

    def plan(self, ctx: OpContext) -> OpPlan:
        return OpPlan(contract=[rename_enum_value(ctx.schema, self.enum, self.value, self.to)])
