"""A migration plan is data: steps with their SQL (composed with psycopg.sql), lock and guard.

This module holds the `Step` type, the locks a plan names and the guard queries (`skip_if`) that make
steps idempotent; every step itself is built in statements.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

# The locks our statements take, as printed by `liveshift plan`.
ACCESS_EXCLUSIVE_BRIEF = "ACCESS EXCLUSIVE (catalog only, brief)"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE (reads and writes continue)"
CONCURRENTLY = "SHARE UPDATE EXCLUSIVE, CONCURRENTLY (reads and writes continue)"
SHARE_ROW_EXCLUSIVE_BRIEF = "SHARE ROW EXCLUSIVE (brief)"
# DROP TRIGGER (IF EXISTS) takes ACCESS EXCLUSIVE, CREATE TRIGGER only SHARE ROW EXCLUSIVE
ACCESS_EXCLUSIVE_TRIGGERS = "ACCESS EXCLUSIVE (brief: DROP TRIGGER)"
NO_TABLE_LOCK = "none on application tables"
UNCHECKED = "unknown: raw SQL, not checked"


@dataclass(frozen=True)
class Step:
    """One idempotent statement: `skip_if` (a query returning one boolean) says it already happened."""

    description: str
    statement: sql.Composable
    lock: str = ACCESS_EXCLUSIVE_BRIEF
    transactional: bool = True
    skip_if: sql.Composable | None = None
    # for CREATE INDEX CONCURRENTLY: the index a failed attempt may leave INVALID, dropped before a retry
    index_to_clean: sql.Composable | None = None
    unchecked: bool = False
    # The application tables the statement locks, as (schema, table), and its strongest lock mode as pg_locks
    # names it (e.g. "AccessExclusiveLock"). Empty/None: the executor reads both from the statement (pglast);
    # a builder fills them where the SQL does not say (a DO block, the referenced table of a dropped foreign key).
    tables: tuple[tuple[str, str], ...] = ()
    lock_mode: str | None = None
    # a step grouped from several (see grouping.group_steps): run in one transaction, each guarded by its skip_if
    parts: tuple[Step, ...] = ()


def qualified(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


# a live (not dropped) column `a` of table `c` in schema `n`: the rest of the WHERE follows
_ATTRIBUTE = (
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = {} AND c.relname = {} AND a.attname = {}"
)


def _attribute(schema: str, table: str, column: str) -> sql.Composable:
    return sql.SQL(_ATTRIBUTE).format(sql.Literal(schema), sql.Literal(table), sql.Literal(column))


def column_exists(schema: str, table: str, column: str) -> sql.Composable:
    return sql.SQL("SELECT EXISTS (SELECT 1 {} AND a.attnum > 0 AND NOT a.attisdropped)").format(
        _attribute(schema, table, column)
    )


def column_missing(schema: str, table: str, column: str) -> sql.Composable:
    return sql.SQL("SELECT NOT ({})").format(column_exists(schema, table, column))


def relation_exists(schema: str, name: str) -> sql.Composable:
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = {} AND c.relname = {})"
    ).format(sql.Literal(schema), sql.Literal(name))


def relation_missing(schema: str, name: str) -> sql.Composable:
    return sql.SQL("SELECT NOT ({})").format(relation_exists(schema, name))


def valid_index_exists(schema: str, name: str) -> sql.Composable:
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {} AND c.relname = {} "
        "AND ix.indisvalid)"
    ).format(sql.Literal(schema), sql.Literal(name))


def constraint_exists(schema: str, table: str, name: str, validated: bool = False) -> sql.Composable:
    extra = sql.SQL(" AND con.convalidated") if validated else sql.SQL("")
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {} AND c.relname = {} "
        "AND con.conname = {}{})"
    ).format(sql.Literal(schema), sql.Literal(table), sql.Literal(name), extra)


def constraint_missing(schema: str, table: str, name: str) -> sql.Composable:
    return sql.SQL("SELECT NOT ({})").format(constraint_exists(schema, table, name))


def column_not_null(schema: str, table: str, column: str) -> sql.Composable:
    return sql.SQL("SELECT coalesce((SELECT a.attnotnull {} AND NOT a.attisdropped), true)").format(
        _attribute(schema, table, column)
    )


def while_hidden(schema: str, table: str, hidden: str, done: sql.Composable) -> sql.Composable:
    """skip_if for contract_first steps: done, or the hidden column already renamed (a re-run after it)."""
    return sql.SQL("SELECT NOT ({}) OR ({})").format(column_exists(schema, table, hidden), done)
