"""The two sides `liveshift diff` compares, as liveshift's catalog reader sees them.

The desired schema (SQL files of CREATE statements) is parsed with pglast, checked statement by statement, and
run in a scratch schema inside a transaction that is rolled back: PostgreSQL itself then prints its types,
defaults, constraints, indexes and views, exactly as it prints the live schema's (as pg-schema-diff does with
a temporary database). Nothing is committed; the live schema is only read.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from pglast import ast
from pglast.visitors import Visitor
from psycopg import sql

from liveshift.catalog import Catalog, read_catalog
from liveshift.sqlconvert.sqltext import deparse
from liveshift.sqlconvert.statements import SqlInputError, Statement, read_sql

# what a desired schema may hold: the objects diff compares, and what they need (sequences, types, functions)
APPLIED = (
    ast.CreateStmt,
    ast.IndexStmt,
    ast.AlterTableStmt,
    ast.ViewStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.CommentStmt,
    ast.CreateEnumStmt,
    ast.CreateDomainStmt,
    ast.CompositeTypeStmt,
    ast.CreateFunctionStmt,
)
# session settings, ownership, grants, extensions and schemas (pg_dump writes them): not part of the comparison
IGNORED = (
    ast.VariableSetStmt,
    ast.TransactionStmt,
    ast.SelectStmt,
    ast.AlterOwnerStmt,
    ast.GrantStmt,
    ast.CreateExtensionStmt,
    ast.CreateSchemaStmt,
)


class _Unqualify(Visitor):
    """Drops the target schema from relation names (the scratch schema stands in for it); another is refused."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.foreign: str | None = None

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        if node.schemaname == self.schema:
            node.schemaname = None
        elif node.schemaname is not None:
            self.foreign = f"{node.schemaname}.{node.relname}"


def schema_statements(paths: list[str], schema: str) -> list[tuple[Statement, str]]:
    """Each statement of the files that builds the schema, with the SQL to run it in the scratch schema."""
    out = []
    for path in paths:
        for stmt in read_sql(path):
            if isinstance(stmt.node, IGNORED):
                continue
            if not isinstance(stmt.node, APPLIED):
                raise stmt.error(
                    f"{stmt.kind.removesuffix('Stmt')} in a schema file: it holds CREATE statements (tables, "
                    "indexes, constraints, views, sequences, types, functions), not changes"
                )
            if isinstance(stmt.node, ast.IndexStmt) and stmt.node.concurrent:
                stmt.node.concurrent = False  # the scratch schema is built inside one transaction
            unqualify = _Unqualify(schema)
            unqualify(stmt.node)
            if unqualify.foreign:
                raise stmt.error(f"{unqualify.foreign} is in another schema: diff compares one schema ({schema})")
            out.append((stmt, deparse(stmt.node)))
    return out


def _read(conn: psycopg.Connection, schema: str, path: list[str]) -> Catalog:
    """`schema` read with `path` as the search_path, so names PostgreSQL prints are unqualified on both sides.
    The catalog reader sets its own path for the dependents (views) last, inside the caller's transaction."""
    conn.execute("SELECT set_config('search_path', %s, true)", (", ".join(path),))
    return read_catalog(conn, schema)


def live_catalog(conn: psycopg.Connection, schema: str) -> Catalog:
    with conn.transaction(force_rollback=True):
        return _read(conn, schema, [sql.Identifier(schema).as_string(conn)])


def scratch_catalog(conn: psycopg.Connection, paths: list[str], schema: str) -> Catalog:
    """The schema the files at `paths` build, read as if it were `schema` (its name in every definition)."""
    statements = schema_statements(paths, schema)
    scratch = f"ls_diff_{uuid.uuid4().hex[:12]}"
    path = [sql.Identifier(scratch).as_string(conn), sql.Identifier(schema).as_string(conn)]
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        conn.execute("SELECT set_config('search_path', %s, true)", (", ".join(path),))
        for stmt, text in statements:
            try:
                with conn.transaction():
                    conn.execute(text)
            except psycopg.Error as exc:
                message = (exc.diag.message_primary or str(exc)).strip()
                raise SqlInputError(f"the schema does not build: {message}", file=stmt.file, line=stmt.line) from None
        catalog = _read(conn, scratch, path)
    return _renamed(catalog, scratch, schema)


def _renamed(catalog: Catalog, scratch: str, schema: str) -> Catalog:
    """The scratch schema's name replaced by the target's wherever PostgreSQL printed it."""
    text = catalog.model_dump_json(by_alias=True)
    for quoted in (f'\\"{scratch}\\".', f"{scratch}."):
        text = text.replace(quoted, f"{schema}.")
    text = text.replace(f'"{scratch}"', f'"{schema}"')
    return Catalog.model_validate_json(text)
