"""A migration plan is data: steps with their SQL (composed with psycopg.sql), lock and guard.

This module holds the `Step` type and the guard queries (`skip_if`) that make steps idempotent; every step
itself is built in statements.py, which declares each one's lock (locks.Lock).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from psycopg import sql

from liveshift.ddl.locks import Lock

# the label of the user's raw SQL, whose lock nothing declares
UNCHECKED = "unknown: raw SQL, not checked"


@dataclass(frozen=True)
class Step:
    """One idempotent statement: `skip_if` (a query returning one boolean) says it already happened."""

    description: str
    statement: sql.Composable
    # what it locks, as its builder declares it; None only for the user's raw SQL (raw_sql_steps)
    lock: Lock | None
    transactional: bool = True
    skip_if: sql.Composable | None = None
    # for CREATE INDEX CONCURRENTLY: the index a failed attempt may leave INVALID, dropped before a retry
    index_to_clean: sql.Composable | None = None
    # a step grouped from several (see grouping.group_steps): run in one transaction, each guarded by its skip_if
    parts: tuple[Step, ...] = ()

    @property
    def unchecked(self) -> bool:
        """The user's raw SQL: liveshift does not know what it locks."""
        return self.lock is None

    @property
    def label(self) -> str:
        """The lock as `liveshift plan` prints it."""
        return self.lock.label if self.lock is not None else UNCHECKED


MAX_IDENTIFIER = 63  # bytes: PostgreSQL truncates longer names (NAMEDATALEN - 1)


def fitted_name(name: str) -> str:
    """`name`, or past PostgreSQL's 63 bytes a prefix and a hash of the whole, so that two long names never
    come out as one (the way truncation would)."""
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    return f"{name.encode()[: MAX_IDENTIFIER - 13].decode(errors='ignore')}_{digest}"


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


def column_is_identity(schema: str, table: str, column: str) -> sql.Composable:
    """The column is an identity column (true as well when it is missing: nothing left to do)."""
    return sql.SQL("SELECT coalesce((SELECT a.attidentity <> '' {} AND NOT a.attisdropped), true)").format(
        _attribute(schema, table, column)
    )


def while_hidden(schema: str, table: str, hidden: str, done: sql.Composable) -> sql.Composable:
    """skip_if for contract_first steps: done, or the hidden column already renamed (a re-run after it)."""
    return sql.SQL("SELECT NOT ({}) OR ({})").format(column_exists(schema, table, hidden), done)


def _inherits(schema: str, parent: str, partition: str, extra: str = "") -> sql.Composable:
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass({}) AND inhparent = to_regclass({}){})"
    ).format(
        sql.Literal(qualified(schema, partition).as_string(None)),
        sql.Literal(qualified(schema, parent).as_string(None)),
        sql.SQL(extra),
    )


def partition_attached(schema: str, parent: str, partition: str) -> sql.Composable:
    """Whether `partition` is a partition of `parent` (a detach pending too)."""
    return _inherits(schema, parent, partition)


def partition_detached(schema: str, parent: str, partition: str) -> sql.Composable:
    return sql.SQL("SELECT NOT ({})").format(partition_attached(schema, parent, partition))


def detach_pending(schema: str, parent: str, partition: str) -> sql.Composable:
    """Whether a DETACH … CONCURRENTLY of `partition` was interrupted after its first transaction."""
    return _inherits(schema, parent, partition, " AND inhdetachpending")


def either(*guards: sql.Composable) -> sql.Composable:
    """A guard true when any of `guards` is."""
    return sql.SQL("SELECT {}").format(sql.SQL(" OR ").join(sql.SQL("({})").format(g) for g in guards))
