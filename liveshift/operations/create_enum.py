"""create_enum: CREATE TYPE … AS ENUM at expand, before the tables and columns of the same file that use it.

A new type changes nothing either version reads, so it is created with the structure (catalog only, no table
lock); rollback drops it last, once the tables and columns of the migration that used it are gone.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import create_enum, drop_type
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.operations.create_table import relation_names


class CreateEnum(OperationBase):
    op_name: ClassVar[str] = "create_enum"
    changes_types: ClassVar[bool] = True
    op: Literal["create_enum"] = "create_enum"
    name: str = Field(min_length=1, max_length=63)
    values: list[str] = Field(min_length=1, description="the labels, in their sort order")

    def check(self, catalog: Catalog) -> None:
        if self.name in catalog.enums:
            raise self.fail("name", f"enum type {catalog.schema_name}.{self.name!r} already exists")
        if self.name in relation_names(catalog) or self.name.startswith("_ls_"):
            raise self.fail("name", f"the name {self.name!r} is taken in schema {catalog.schema_name}")
        for i, label in enumerate(self.values):
            if not label or len(label.encode()) > 63:
                raise self.fail(f"values[{i}]", "an enum label has 1 to 63 bytes")
            if label in self.values[:i]:
                raise self.fail(f"values[{i}]", f"value {label!r} is given twice")

    def apply(self, catalog: Catalog) -> Catalog:
        return catalog.model_copy(update={"enums": {**catalog.enums, self.name: list(self.values)}})

    def plan(self, ctx: OpContext) -> OpPlan:
        return OpPlan(
            structure=[create_enum(ctx.schema, self.name, self.values)],
            rollback_last=[drop_type(ctx.schema, self.name, " created by expand")],
        )
