"""create_table's table-level `constraints:`: named checks, unique keys, foreign keys and exclusion constraints
over one or more columns. The table is new and empty, so each is declared inline in its CREATE TABLE, exactly as
the plain statement would (an exclusion constraint on a table that holds rows is another matter: operations.md)."""

from __future__ import annotations

from typing import Literal

from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from liveshift.catalog import Catalog, Constraint, Index
from liveshift.operations.columns import ForeignKeyOptions
from liveshift.operations.constraints import _pg_name
from liveshift.shape import user_expression


class ConstraintReferences(ForeignKeyOptions):
    table: str = Field(min_length=1, max_length=63)
    columns: list[str] = Field(min_length=1)


class ExcludeElement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=63)
    operator: str = Field(pattern=r"^[=<>!~@#&|^*+\-/%?]{1,8}$", description="e.g. && or =")


class TableConstraint(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(None, min_length=1, max_length=63)
    type: Literal["check", "unique", "foreign_key", "exclude"]
    columns: list[str] | None = Field(None, min_length=1)
    check_expr: str | None = Field(None, alias="check", min_length=1)
    no_inherit: bool = False  # check
    nulls_not_distinct: bool = False  # unique (PostgreSQL 15 and later)
    include: list[str] = Field(default_factory=list)  # unique: INCLUDE columns, stored in the index, not keyed
    deferrable: bool = False  # unique, exclude (a foreign key says so in `references`)
    initially_deferred: bool = False
    references: ConstraintReferences | None = None
    exclude: list[ExcludeElement] | None = Field(None, min_length=1)
    method: Literal["gist", "spgist", "btree", "hash"] = "gist"  # exclude
    where: str | None = Field(None, min_length=1)  # exclude
    comment: str | None = None  # COMMENT ON CONSTRAINT, set at contract

    def key_columns(self) -> list[str]:
        return [e.column for e in self.exclude or []] if self.type == "exclude" else list(self.columns or [])

    def constraint_name(self, table: str) -> str:
        """The given name, else PostgreSQL's (a check needs one: problem() says so)."""
        suffix = {"unique": "key", "foreign_key": "fkey", "exclude": "excl", "check": "check"}[self.type]
        return self.name or _pg_name(table, *self.key_columns(), suffix)

    def problem(self, columns: set[str], catalog: Catalog) -> tuple[str, str] | None:
        """(field, why) when this constraint cannot be declared over a table of `columns`; None when it can."""
        wanted = {"check": "check", "unique": "columns", "foreign_key": "references", "exclude": "exclude"}[self.type]
        given = {"check": self.check_expr, "columns": self.columns, "references": self.references}
        given["exclude"] = self.exclude
        if given[wanted] is None:
            return wanted, f"a {self.type} constraint needs '{wanted}'"
        if self.type == "check" and self.name is None:
            return "name", "a table-level check needs a name"
        if self.type == "foreign_key" and self.columns is None:
            return "columns", "a foreign_key constraint needs 'columns'"
        if self.initially_deferred and not self.deferrable:
            return "initially_deferred", "a constraint initially deferred must be deferrable (deferrable: true)"
        for name in self.key_columns():
            if name not in columns:
                return ("exclude" if self.type == "exclude" else "columns"), f"column {name!r} is not in the table"
        if self.include and self.type != "unique":
            return "include", "INCLUDE columns apply to a unique constraint"
        for name in self.include:
            if name not in columns:
                return "include", f"column {name!r} is not in the table"
        if self.references is not None:
            return self._references_problem(catalog)
        return None

    def _references_problem(self, catalog: Catalog) -> tuple[str, str] | None:
        from liveshift.operations.create_table import has_unique_key  # create_table imports this module

        refs = self.references
        assert refs is not None
        ref = catalog.table(refs.table)
        if ref is None:
            return "references.table", f"table {refs.table!r} does not exist"
        missing = [c for c in refs.columns if ref.column(c) is None]
        if missing:
            return "references.columns", f"column {missing[0]!r} does not exist in table {ref.name!r}"
        if len(refs.columns) != len(self.columns or []):
            return "references.columns", "give as many referenced columns as 'columns'"
        if not has_unique_key(ref, refs.columns):
            return "references.columns", f"table {ref.name!r} has no primary key or unique index over them"
        problem = refs.option_problem(list(self.columns or []))
        return (f"references.{problem[0]}", problem[1]) if problem else None

    def logical(self, table: str) -> tuple[list[Index], list[Constraint]]:
        """What later operations of the file see of it."""
        name, columns = self.constraint_name(table), self.key_columns()
        kind = {"check": "check", "unique": "unique", "foreign_key": "foreign_key", "exclude": "exclusion"}[self.type]
        refs = self.references
        constraint = Constraint(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            definition="",
            columns=columns,
            ref_table=refs.table if refs else None,
            ref_columns=list(refs.columns) if refs else [],
        )
        indexes = []
        if self.type in ("unique", "exclude"):
            method = "btree" if self.type == "unique" else self.method
            indexes.append(
                Index(name=name, columns=columns, unique=self.type == "unique", method=method, constraint=name)
            )
        return indexes, [constraint]

    def definition(self, table: str, referenced: sql.Composable | None) -> sql.Composable:
        """The item of CREATE TABLE; `referenced`: the referenced table, qualified (foreign keys)."""
        head = sql.SQL("CONSTRAINT {} ").format(sql.Identifier(self.constraint_name(table)))
        deferral = sql.SQL("")
        if self.deferrable:
            deferral = sql.SQL(" DEFERRABLE INITIALLY {}").format(
                sql.SQL("DEFERRED" if self.initially_deferred else "IMMEDIATE")
            )
        if self.type == "check":
            no_inherit = sql.SQL(" NO INHERIT") if self.no_inherit else sql.SQL("")
            return head + sql.SQL("CHECK {}{}").format(user_expression(self.check_expr or ""), no_inherit)
        if self.type == "unique":
            distinct = sql.SQL(" NULLS NOT DISTINCT") if self.nulls_not_distinct else sql.SQL("")
            include = sql.SQL(" INCLUDE ({})").format(_names(self.include)) if self.include else sql.SQL("")
            return head + sql.SQL("UNIQUE{} ({}){}{}").format(distinct, _names(self.columns or []), include, deferral)
        if self.type == "foreign_key":
            refs = self.references
            assert refs is not None and referenced is not None
            options = refs.options_sql({c: c for c in self.columns or []})
            return head + sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({}){}").format(
                _names(self.columns or []), referenced, _names(refs.columns), options
            )
        elements = sql.SQL(", ").join(
            sql.SQL("{} WITH {}").format(sql.Identifier(e.column), sql.SQL(e.operator)) for e in self.exclude or []
        )
        where = sql.SQL(" WHERE {}").format(user_expression(self.where)) if self.where else sql.SQL("")
        return head + sql.SQL("EXCLUDE USING {} ({}){}{}").format(sql.SQL(self.method), elements, where, deferral)


def _names(columns: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)
