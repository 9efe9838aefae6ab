"""The one protocol every operation implements, and the values it produces.

An operation is a pydantic model (its part of the migration file) that can
- `check` itself against the logical catalog it will run on (raising SpecError with the field),
- `apply` itself to that catalog, giving the logical catalog after it (so a multi-operation
  file is validated op by op without touching the database),
- `plan` its steps for each phase, the up/down transforms the dual-write trigger runs, and
  the predicates verify checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from liveshift.catalog import Catalog, Column, Table
from liveshift.ddl.steps import Step
from liveshift.errors import SpecError

MAX_IDENT = 63


def hidden_name(kind: str, name: str) -> str:
    """Name of a helper object (`_ls_new_email`); hashed when it would pass PostgreSQL's 63 bytes."""
    candidate = f"_ls_{kind}_{name}"
    if len(candidate.encode()) <= MAX_IDENT:
        return candidate
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"_ls_{kind}_{name.encode()[:40].decode(errors='ignore')}_{digest}"


@dataclass(frozen=True)
class Transform:
    """Assign `target` (a physical column) from `expression`, evaluated over `variables`.

    `up` runs for writes from blue (and for the backfill): it reads the old shape.
    `down` runs for writes from green: it reads the new shape.
    """

    direction: str  # "up" | "down"
    table: str  # physical table
    target: str  # physical column
    target_type: str
    expression: str
    variables: tuple[Column, ...]  # logical columns (with their physical storage) the expression sees
    op_index: int
    field: str = "up"
    # calls a volatile function (volatility.py): assigned once, as a default, and verified present, not recomputed
    volatile: bool = False
    # tried on existing rows at plan; not one drawing from a sequence that expand creates
    sample: bool = True
    # liveshift's own expression over a type the migration creates (an enum type swap): nothing of the user's
    # to compile before expand, and the type does not exist until expand
    generated: bool = False


@dataclass(frozen=True)
class VerifyCheck:
    """A predicate every row must satisfy once backfilled (written in terms of the green shape)."""

    table: str  # physical table
    description: str
    predicate: str
    variables: tuple[Column, ...]
    field: str = "check"


@dataclass(frozen=True)
class ExpressionProbe:
    """A user expression compiled against the table (as `type`, when given) before anything runs."""

    field: str
    table: str  # physical table
    expression: str
    variables: tuple[Column, ...]
    type: str | None = None
    # evaluate over a sample of existing rows too: an `up` that compiles can still fail on real data
    sample: bool = False


@dataclass
class OpPlan:
    # tables and columns the dual-write trigger writes into: they exist before any trigger or constraint
    structure: list[Step] = field(default_factory=list)
    expand: list[Step] = field(default_factory=list)
    validate: list[Step] = field(default_factory=list)  # after backfill: VALIDATE CONSTRAINT and the like
    # contract, right after blue's views are gone and before the dual write and the structural drops and
    # renames: steps that must precede dropping the old columns (e.g. a primary key swap); physical names
    contract_first: list[Step] = field(default_factory=list)
    contract: list[Step] = field(default_factory=list)
    # rollback, right after green's views are gone and before the dual write is dropped: constraints that
    # writes without the trigger would violate (e.g. a foreign key between two hidden columns)
    rollback_first: list[Step] = field(default_factory=list)
    rollback: list[Step] = field(default_factory=list)
    # rollback, last: after the columns and tables expand added are dropped (a type they used)
    rollback_last: list[Step] = field(default_factory=list)
    transforms: list[Transform] = field(default_factory=list)
    checks: list[VerifyCheck] = field(default_factory=list)
    types: list[tuple[str, str]] = field(default_factory=list)  # (field, type) that must exist
    expressions: list[ExpressionProbe] = field(default_factory=list)  # beyond transforms and checks
    unchecked: bool = False  # raw SQL: shown as such in the plan
    # what contract removes for this operation, for the objects that read it (carry.py): (physical table, physical
    # column or None for the whole table, the hidden column renamed into the column's place or None)
    removes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    drop_dependents: bool = False  # drop what reads a removed column at contract, rather than refuse
    # physical tables the operation alters beyond those it names (alter_primary_key: the tables whose foreign keys
    # it moves): the worker must own them too (preflight/privileges.py)
    alters: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OpContext:
    schema: str
    migration: str
    index: int
    before: Catalog  # logical catalog this operation reads
    after: Catalog  # logical catalog this operation produces
    physical: Catalog  # physical catalog before the migration started
    final: Catalog  # logical catalog after the whole migration

    def final_name_of(self, physical_table: str, physical_column: str | None = None) -> tuple[str, str]:
        """Names after contract of what is stored now in `physical_table`.`physical_column`."""
        for table in self.final.tables.values():
            if table.physical == physical_table:
                if physical_column is None:
                    return table.name, ""
                for column in table.columns:
                    if column.physical == physical_column:
                        return table.name, column.name
                return table.name, physical_column
        return physical_table, physical_column or ""


class OperationBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op_name: ClassVar[str]
    # creates, drops or changes a type (an enum) that any table of the schema may use: runs alone (compose.py)
    changes_types: ClassVar[bool] = False

    def check(self, catalog: Catalog) -> None:
        raise NotImplementedError

    def apply(self, catalog: Catalog) -> Catalog:
        raise NotImplementedError

    def plan(self, ctx: OpContext) -> OpPlan:
        raise NotImplementedError

    def tables(self) -> list[str]:
        """Logical names of the tables this operation touches."""
        table = getattr(self, "table", None)
        return [table] if table else []

    # helpers shared by operations

    def fail(self, field_name: str, message: str) -> SpecError:
        return SpecError(message, op=self.op_name, field=field_name)

    def require_table(self, catalog: Catalog, name: str, field_name: str = "table") -> Table:
        table = catalog.table(name)
        if table is None:
            parent = catalog.partitioned_table_of(name)
            if parent is not None:
                raise self.fail(
                    field_name,
                    f"table {name!r} is a partition of partitioned table {parent!r}: liveshift changes a partitioned "
                    f"table as a whole, through its partitioned table (name {parent!r} instead)",
                )
            raise self.fail(field_name, f"table {catalog.schema_name}.{name!r} does not exist")
        return table

    def require_column(self, table: Table, name: str, field_name: str = "column") -> Column:
        column = table.column(name)
        if column is None:
            raise self.fail(field_name, f"column {name!r} does not exist in table {table.name!r}")
        return column


def replace_table(catalog: Catalog, old_name: str, table: Table | None) -> Catalog:
    """A copy of `catalog` with `old_name` replaced by `table` (or removed), order kept."""
    tables: dict[str, Table] = {}
    for name, existing in catalog.tables.items():
        if name != old_name:
            tables[name] = existing
        elif table is not None:
            tables[table.name] = table
    if old_name not in catalog.tables and table is not None:
        tables[table.name] = table
    return catalog.model_copy(update={"tables": tables})


def table_ident(schema: str, table: Table) -> sql.Identifier:
    return sql.Identifier(schema, table.physical)
