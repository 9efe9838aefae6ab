"""What conversion produces per statement before it becomes the migration file: the operations, where they came
from, and the values marked for review (candidates liveshift could not infer from the SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


class Unsupported(Exception):
    """A statement (or part of one) with no liveshift operation: it is kept as raw_sql, with this reason."""


class Review(BaseModel):
    """A value written as the best candidate, to be checked by a person before the migration runs."""

    file: str
    line: int
    index: int  # the operation's index in the migration file
    op: str
    field: str
    message: str

    def render(self) -> str:
        return (
            f"{self.file}:{self.line}: review operations[{self.index}] ({self.op}) field '{self.field}': {self.message}"
        )


@dataclass
class Draft:
    """One operation of the file being written, with the statement it comes from."""

    op: dict[str, Any]
    line: int
    source: str  # the statement's first line, quoted in the file
    reviews: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    notes: list[str] = field(default_factory=list)  # facts worth a comment in the file (not guesses)

    def review(self, field_name: str, message: str) -> None:
        self.reviews.append((field_name, message))


@dataclass
class KnownColumn:
    type: str
    nullable: bool = True
    default: str | None = None


@dataclass
class Known:
    """What the file itself says about tables it creates or changes: used to infer an up or down the SQL implies
    (e.g. the old type of a column whose type changes); the live catalog is not read."""

    tables: dict[str, dict[str, KnownColumn]] = field(default_factory=dict)

    def column(self, table: str, name: str) -> KnownColumn | None:
        return self.tables.get(table, {}).get(name)


@dataclass
class State:
    """The conversion so far. A statement converts against a copy, kept only when the whole statement converts."""

    drafts: list[Draft] = field(default_factory=list)
    known: Known = field(default_factory=Known)
    added: dict[tuple[str, str], Draft] = field(default_factory=dict)  # add_column drafts by (table, column)
    schemas: set[str] = field(default_factory=set)
    # columns that exist only once this migration contracts (added or renamed by it): SQL that runs on the table
    # itself (a CHECK, an index predicate) cannot name them in the same migration
    introduced: set[tuple[str, str]] = field(default_factory=set)
    # tables this file creates with raw_sql (a CREATE TABLE liveshift cannot express): not in liveshift's catalog,
    # so every later statement naming one (its constraints and indexes, a foreign key to it) is raw_sql too
    raw_tables: set[str] = field(default_factory=set)

    def needs_next_migration(self, draft: Draft, table: str, columns: list[str], field_name: str) -> None:
        named = sorted({c for c in columns if (table, c) in self.introduced})
        if named:
            draft.review(
                field_name,
                f"names {', '.join(named)}, which this migration adds or renames: liveshift runs it on the table as "
                "stored before the migration, so `liveshift plan` refuses it here; move it to the next migration",
            )
