"""Column definitions shared by add_column and create_table."""

from __future__ import annotations

from typing import Literal

from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from liveshift.catalog import Column, Constraint, Index
from liveshift.ddl.statements import foreign_key_options
from liveshift.operations.base import OperationBase

Action = Literal["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"]


class ForeignKeyOptions(BaseModel):
    """What a foreign key may say beyond its columns: actions, match type, deferral."""

    model_config = ConfigDict(extra="forbid")
    on_delete: Action = "NO ACTION"
    # SET NULL (a, b) / SET DEFAULT (a, b): only these referencing columns (PostgreSQL 15 and later)
    on_delete_columns: list[str] | None = Field(None, min_length=1)
    on_update: Action = "NO ACTION"
    match: Literal["simple", "full"] = "simple"
    deferrable: bool = False
    initially_deferred: bool = False

    def option_problem(self, columns: list[str]) -> tuple[str, str] | None:
        """(field, why) when the options cannot go together over referencing `columns`; None when they can."""
        if self.initially_deferred and not self.deferrable:
            return "initially_deferred", "a key initially deferred must be deferrable (deferrable: true)"
        if self.on_delete_columns is not None:
            if self.on_delete not in ("SET NULL", "SET DEFAULT"):
                return "on_delete_columns", "applies to on_delete SET NULL or SET DEFAULT only"
            stray = sorted(set(self.on_delete_columns) - set(columns))
            if stray:
                return "on_delete_columns", f"not among the key's referencing columns: {', '.join(stray)}"
        return None

    def options_sql(self, physical: dict[str, str]) -> sql.Composable:
        """The options as SQL; `physical`: each referencing column's stored name (for on_delete_columns)."""
        return foreign_key_options(
            self.on_delete,
            [physical[c] for c in self.on_delete_columns or []],
            self.on_update,
            self.match.upper(),
            self.deferrable,
            self.initially_deferred,
        )


class ForeignKeyRef(ForeignKeyOptions):
    table: str = Field(min_length=1, max_length=63)
    column: str = Field(min_length=1, max_length=63)
    name: str | None = Field(None, min_length=1, max_length=63, description="default <table>_<column>_fkey")


class CheckDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=63)
    expression: str = Field(min_length=1)
    no_inherit: bool = False


class UniqueDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=63)


class IdentityDef(BaseModel):
    """`GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY` with its sequence options (PostgreSQL's defaults when left out)."""

    model_config = ConfigDict(extra="forbid")
    generated: Literal["always", "by_default"] = "by_default"
    start: int | None = None
    increment: int | None = Field(None, description="not 0")
    min_value: int | None = None
    max_value: int | None = None
    cache: int | None = Field(None, ge=1)
    cycle: bool = False

    @property
    def always(self) -> bool:
        return self.generated == "always"

    def sequence_options(self) -> list[tuple[str, int | None]]:
        """(option, value) as CREATE SEQUENCE and the identity clause spell them; CYCLE has no value."""
        values = (
            ("START WITH", self.start),
            ("INCREMENT BY", self.increment),
            ("MINVALUE", self.min_value),
            ("MAXVALUE", self.max_value),
            ("CACHE", self.cache),
        )
        options: list[tuple[str, int | None]] = [(k, v) for k, v in values if v is not None]
        return [*options, ("CYCLE", None)] if self.cycle else options


class GeneratedDef(BaseModel):
    """`GENERATED ALWAYS AS (expression) STORED` (or VIRTUAL, PostgreSQL 18: computed when read)."""

    model_config = ConfigDict(extra="forbid")
    expression: str = Field(min_length=1)
    stored: bool = True


class ColumnDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    type: str = Field(min_length=1)
    nullable: bool = True
    default: str | None = None
    unique: bool | UniqueDef = False
    check: str | CheckDef | None = None  # an expression, or {expression, name?, no_inherit?}
    references: ForeignKeyRef | None = None
    primary_key: bool = False
    comment: str | None = None  # COMMENT ON COLUMN, set at contract
    identity: Literal["always", "by_default"] | IdentityDef | None = None
    generated: str | GeneratedDef | None = None  # an expression (stored), or {expression, stored?}

    @property
    def identity_def(self) -> IdentityDef | None:
        return IdentityDef(generated=self.identity) if isinstance(self.identity, str) else self.identity

    @property
    def generated_def(self) -> GeneratedDef | None:
        return GeneratedDef(expression=self.generated) if isinstance(self.generated, str) else self.generated

    @property
    def check_def(self) -> CheckDef | None:
        return CheckDef(expression=self.check) if isinstance(self.check, str) else self.check

    def unique_name_or(self, default: str) -> str | None:
        """The unique constraint's name (given, or `default`), None without one."""
        if isinstance(self.unique, UniqueDef):
            return self.unique.name or default
        return default if self.unique else None

    def check_name_or(self, default: str) -> str | None:
        check = self.check_def
        return None if check is None else check.name or default

    def fk_name_or(self, default: str) -> str:
        return (self.references.name if self.references else None) or default

    def as_column(self, stored_as: str | None = None) -> Column:
        identity = self.identity_def
        return Column(
            name=self.name,
            type=self.type,
            nullable=self.nullable and not self.primary_key and self.identity is None,
            default=self.default,
            stored_as=stored_as,
            identity=("a" if identity.always else "d") if identity else "",
            generated=self.generated is not None,
        )


def check_column_options(op: OperationBase, column: ColumnDef, prefix: str) -> None:
    """Refuse a column's options that cannot go together (the field under `prefix`)."""
    problem = _identity_problem(column)
    if problem:
        raise op.fail(f"{prefix}.{problem[0]}", problem[1])
    if column.references is not None:
        problem = column.references.option_problem([column.name])
        if problem:
            raise op.fail(f"{prefix}.references.{problem[0]}", problem[1])


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


_INTEGER_TYPES = {"smallint", "integer", "bigint", "int2", "int4", "int8", "int"}


def _identity_problem(column: ColumnDef) -> tuple[str, str] | None:
    """(field, why) when identity or generated cannot go with the column's other options."""
    identity, generated = column.identity_def, column.generated_def
    if identity is not None:
        if column.type.strip().lower() not in _INTEGER_TYPES:
            return "identity", f"an identity column must be smallint, integer or bigint, not {column.type!r}"
        if column.default is not None or generated is not None:
            return "identity", "an identity column has no default or generation expression of its own"
        if identity.increment == 0:
            return "identity.increment", "the increment cannot be 0"
    if generated is not None:
        if column.default is not None:
            return "generated", "a generated column has no default"
        if column.primary_key and not generated.stored:
            return "generated.stored", "a virtual generated column cannot be a primary key"
    return None
