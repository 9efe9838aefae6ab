"""The application's real statements, compiled under blue and under green: whatever the rules miss that breaks a
query (a column a view no longer has, a type an operator no longer takes), the rehearsal shows before production.

The statements are those `pg_stat_statements` recorded for the target database (normalised: constants are `$n`
parameters). Each is EXPLAINed in the scratch database, never executed, with the search_path an application of
each version uses (its version schema alone): a generic plan, `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16 and later,
else `PREPARE` then `EXPLAIN EXECUTE` with NULL for each parameter. A statement that compiles under blue and not
under green is reported, with green's error. Only plannable statements (SELECT, INSERT, UPDATE, DELETE, MERGE) are
checked, and not those that read the catalogs or liveshift's own schema (liveshift's and monitoring's sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor
from psycopg import sql

from liveshift.rehearsal.report import QueryBreak, QueryCheck

MOST_STATEMENTS = 500  # the most-called statements checked
STATEMENT_TIMEOUT = "5s"  # planning one statement
_PLANNABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_NOT_THE_APPLICATION = {"liveshift", "pg_catalog", "information_schema"}


@dataclass(frozen=True)
class Statement:
    query: str
    calls: int
    parameters: int  # the highest $n


class _Shape(Visitor):
    """The highest parameter number, and whether the statement reads a catalog or liveshift's schema."""

    def __init__(self) -> None:
        self.parameters = 0
        self.internal = False

    def visit_ParamRef(self, ancestors: object, node: ast.ParamRef) -> None:
        self.parameters = max(self.parameters, node.number)

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.schemaname in _NOT_THE_APPLICATION or (node.schemaname is None and node.relname.startswith("pg_")):
            self.internal = True


def _statement(query: str, calls: int) -> Statement | None:
    """The recorded text as a statement to check, or None (not one plannable application statement)."""
    try:
        parsed = parse_sql(query)
    except ParseError:
        return None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, _PLANNABLE):
        return None
    shape = _Shape()
    shape(parsed[0])
    return None if shape.internal else Statement(query, calls, shape.parameters)


def read_statements(conn: psycopg.Connection) -> tuple[list[Statement] | None, str]:
    """The target database's recorded application statements, most called first; None (and why) when
    pg_stat_statements is not there to read."""
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_stat_statements'"
    ).fetchone()
    if row is None:
        return None, "pg_stat_statements is not installed in the target database (CREATE EXTENSION)"
    view = sql.Identifier(row[0], "pg_stat_statements")
    query = sql.SQL(
        "SELECT query, sum(calls)::bigint FROM {} WHERE dbid = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) GROUP BY query ORDER BY 2 DESC LIMIT {}"
    ).format(view, sql.Literal(MOST_STATEMENTS * 4))
    try:
        with conn.transaction():
            rows = conn.execute(query).fetchall()
    except psycopg.errors.ObjectNotInPrerequisiteState:
        return None, "pg_stat_statements is not loaded (shared_preload_libraries)"
    hidden = sum(1 for text, _ in rows if text is None or text.startswith("<insufficient privilege>"))
    statements = [s for text, calls in rows if text and (s := _statement(text, int(calls)))]
    note = f"{hidden} statements of other roles hidden (pg_read_all_stats shows them)" if hidden else ""
    return statements[:MOST_STATEMENTS], note


def _explain(conn: psycopg.Connection, statement: Statement, version: str, generic_plan: bool) -> str | None:
    """The error planning `statement` under `version`'s search_path, or None when it compiles. Nothing runs."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(version)))
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT)))
            text = sql.SQL(statement.query)  # type: ignore[arg-type]  # recorded SQL, planned, never executed
            if generic_plan:
                conn.execute(sql.SQL("EXPLAIN (GENERIC_PLAN) {}").format(text))
            elif statement.parameters:
                conn.execute(sql.SQL("PREPARE ls_rehearsal AS {}").format(text))
                nulls = sql.SQL(", ").join([sql.NULL] * statement.parameters)
                conn.execute(sql.SQL("EXPLAIN EXECUTE ls_rehearsal({})").format(nulls))
            else:
                conn.execute(sql.SQL("EXPLAIN {}").format(text))
    except psycopg.Error as exc:
        return (str(exc).splitlines() or [type(exc).__name__])[0]
    finally:
        # prepared statements outlive a transaction; ALL would drop psycopg's own too
        if conn.execute("SELECT 1 FROM pg_prepared_statements WHERE name = 'ls_rehearsal'").fetchone():
            conn.execute("DEALLOCATE ls_rehearsal")
    return None


def check_statements(
    conn: psycopg.Connection, statements: list[Statement], blue: str, green: str, generic_plan: bool | None = None
) -> QueryCheck:
    """Each statement planned under blue and under green (both version schemas exist: after expand); with
    `EXPLAIN (GENERIC_PLAN)` where the server has it (16 and later) unless `generic_plan` says otherwise."""
    if generic_plan is None:
        row = conn.execute("SELECT current_setting('server_version_num')::int >= 160000").fetchone()
        generic_plan = bool(row and row[0])
    check = QueryCheck(available=True, checked=len(statements))
    for statement in statements:
        under_blue = _explain(conn, statement, blue, generic_plan)
        under_green = _explain(conn, statement, green, generic_plan)
        if under_blue is None and under_green is not None:
            check.broken.append(QueryBreak(query=statement.query, calls=statement.calls, error=under_green))
        elif under_blue is not None and under_green is not None:
            check.failing_under_both += 1
    return check
