"""Reads the live schema into plain pydantic values, and models the logical shape during a migration.

The same models describe the physical catalog (read from PostgreSQL) and the logical one an
operation produces: during a migration a logical column may be stored in another physical
column (`stored_as`), e.g. a hidden `_ls_new_<col>` that only the green views expose.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from pydantic import BaseModel, Field

from liveshift.dependents import Dependent
from liveshift.dependents.read import read_dependents
from liveshift.expressions.qualify import SchemaNames, read_schema_names


class Column(BaseModel):
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: Literal["", "a", "d"] = ""
    generated: bool = False
    # physical column holding this logical column while a migration is in flight
    stored_as: str | None = None

    @property
    def physical(self) -> str:
        return self.stored_as or self.name


class Index(BaseModel):
    name: str
    columns: list[str | None]  # None where the key part is an expression
    unique: bool = False
    primary: bool = False
    valid: bool = True
    method: str = "btree"
    predicate: str | None = None
    definition: str = ""
    constraint: str | None = None  # the constraint this index backs, if any
    tablespace: str | None = None  # its own, when not the database's default (pg_get_indexdef does not print it)


class Constraint(BaseModel):
    name: str
    kind: Literal["check", "unique", "primary_key", "foreign_key", "exclusion", "not_null", "trigger"]
    definition: str
    columns: list[str] = Field(default_factory=list)
    validated: bool = True
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: list[str] = Field(default_factory=list)


class IncomingForeignKey(BaseModel):
    """A foreign key in another table that references this one."""

    schema_name: str
    table: str
    name: str
    columns: list[str]
    ref_columns: list[str]
    definition: str


class Table(BaseModel):
    name: str
    columns: list[Column]
    primary_key: list[str] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    referenced_by: list[IncomingForeignKey] = Field(default_factory=list)
    stored_as: str | None = None  # physical table name while a rename is in flight

    @property
    def physical(self) -> str:
        return self.stored_as or self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)

    def backfill_key(self) -> list[str]:
        """Primary key, else the first unique index over NOT NULL plain columns; [] when neither."""
        if self.primary_key:
            return list(self.primary_key)
        for index in self.indexes:
            if index.unique and index.valid and index.predicate is None and all(index.columns):
                cols = [self.column(c) for c in index.columns if c]
                if all(c is not None and not c.nullable for c in cols):
                    return [c for c in index.columns if c]
        return []


class Catalog(BaseModel):
    schema_name: str
    tables: dict[str, Table] = Field(default_factory=dict)
    sequences: list[str] = Field(default_factory=list)
    # what an unqualified name in an `up`/`down` may resolve to in the schema (qualify.py); empty in snapshots
    # stored before it was recorded, whose plans then stay as they were
    names: SchemaNames = Field(default_factory=SchemaNames)
    # (schema, name) of the volatile functions the migration's up/down call (volatility.py), read at prepare
    volatile_functions: list[tuple[str, str]] = Field(default_factory=list)
    # objects outside the tables that read them (views, functions, policies, …): dependents.py
    dependents: list[Dependent] = Field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def all_index_names(self) -> set[str]:
        return {i.name for t in self.tables.values() for i in t.indexes}


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated <> ''
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indisvalid, am.amname,
       pg_get_expr(ix.indpred, ix.indrelid), pg_get_indexdef(ix.indexrelid), con.conname,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       (SELECT spcname FROM pg_tablespace WHERE oid = i.reltablespace)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = %s AND t.relkind IN ('r', 'p')
ORDER BY t.relname, i.relname
"""

_CONSTRAINTS = """
SELECT t.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid), con.convalidated,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
       rn.nspname, rt.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rt ON rt.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE n.nspname = %s AND con.contype IN ('c', 'u', 'p', 'f', 'x')
ORDER BY t.relname, con.conname
"""

_INCOMING = """
SELECT rt.relname, n.nspname, t.relname, con.conname, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class rt ON rt.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE con.contype = 'f' AND rn.nspname = %s
ORDER BY rt.relname, n.nspname, t.relname, con.conname
"""

_KINDS = {"c": "check", "u": "unique", "p": "primary_key", "f": "foreign_key", "x": "exclusion"}


def read_catalog(conn: psycopg.Connection, schema: str) -> Catalog:
    """Snapshot the tables of `schema` (one consistent read, no locks beyond catalog reads)."""
    tables: dict[str, Table] = {}
    for rel, name, typ, nullable, default, identity, generated in conn.execute(_COLUMNS, (schema,)):
        table = tables.setdefault(rel, Table(name=rel, columns=[]))
        table.columns.append(
            Column(
                name=name, type=typ, nullable=nullable, default=default, identity=identity or "", generated=generated
            )
        )
    _read_indexes(conn, schema, tables)
    _read_constraints(conn, schema, tables)
    sequences = [
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'S' ORDER BY 1",
            (schema,),
        )
    ]
    return Catalog(
        schema_name=schema,
        tables=tables,
        sequences=sequences,
        names=read_schema_names(conn, schema),
        dependents=read_dependents(conn, schema),
    )


def _read_indexes(conn: psycopg.Connection, schema: str, tables: dict[str, Table]) -> None:
    for row in conn.execute(_INDEXES, (schema,)):
        rel, name, unique, primary, valid, method, pred, definition, con, cols, tablespace = row
        tables[rel].indexes.append(
            Index(
                name=name,
                columns=list(cols),
                unique=unique,
                primary=primary,
                valid=valid,
                method=method,
                predicate=pred,
                definition=definition,
                constraint=con,
                tablespace=tablespace,
            )
        )
        if primary:
            tables[rel].primary_key = [c for c in cols if c]


def _read_constraints(conn: psycopg.Connection, schema: str, tables: dict[str, Table]) -> None:
    """The tables' own constraints, and the foreign keys of other tables that reference them."""
    for rel, name, kind, definition, validated, cols, rschema, rtable, rcols in conn.execute(_CONSTRAINTS, (schema,)):
        tables[rel].constraints.append(
            Constraint(
                name=name,
                kind=_KINDS[kind],
                definition=definition,
                columns=list(cols),
                validated=validated,
                ref_schema=rschema,
                ref_table=rtable,
                ref_columns=list(rcols or []),
            )
        )
    for rtable, fschema, ftable, name, definition, cols, rcols in conn.execute(_INCOMING, (schema,)):
        if rtable in tables:
            tables[rtable].referenced_by.append(
                IncomingForeignKey(
                    schema_name=fschema,
                    table=ftable,
                    name=name,
                    columns=list(cols),
                    ref_columns=list(rcols),
                    definition=definition,
                )
            )


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", (schema,)).fetchone()
    return bool(row and row[0])
