"""Column definitions shared by add_column and create_table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from liveshift.catalog import Column


class ForeignKeyRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1, max_length=63)
    column: str = Field(min_length=1, max_length=63)
    on_delete: Literal["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"] = "NO ACTION"


class ColumnDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    type: str = Field(min_length=1)
    nullable: bool = True
    default: str | None = None
    unique: bool = False
    check: str | None = None
    references: ForeignKeyRef | None = None
    primary_key: bool = False

    def as_column(self, stored_as: str | None = None) -> Column:
        return Column(
            name=self.name,
            type=self.type,
            nullable=self.nullable and not self.primary_key,
            default=self.default,
            stored_as=stored_as,
        )
