"""Column definitions shared by add_column and create_table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from liveshift.catalog import Column, Constraint, Index


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


def declared_constraints(
    column: str, *, unique: str | None, check: str | None, foreign_key: str, references: ForeignKeyRef | None
) -> tuple[list[Index], list[Constraint]]:
    """The logical index and constraints a column's `unique`, `check` and `references` declare, under the given
    names (those PostgreSQL would pick), so later operations of the file see them."""
    indexes: list[Index] = []
    constraints: list[Constraint] = []
    if unique:
        indexes.append(Index(name=unique, columns=[column], unique=True, constraint=unique))
        constraints.append(Constraint(name=unique, kind="unique", definition="", columns=[column]))
    if check is not None:
        constraints.append(Constraint(name=check, kind="check", definition="", columns=[column]))
    if references is not None:
        constraints.append(
            Constraint(
                name=foreign_key,
                kind="foreign_key",
                definition="",
                columns=[column],
                ref_table=references.table,
                ref_columns=[references.column],
            )
        )
    return indexes, constraints
