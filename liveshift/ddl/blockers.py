"""The backends that would make a step's lock request queue: found from pg_locks, never by asking.

A lock request that waits makes every later conflicting request on the table queue behind it, so
the executor first looks: a backend whose transaction has been open longer than a short threshold
and that holds, or waits for, a lock conflicting with the step's mode blocks the step. Younger
transactions are ignored: application writers hold RowExclusiveLock for milliseconds and must not
starve a step; behind one of those the short lock_timeout bounds the queueing.

An autovacuum worker holds SHARE UPDATE EXCLUSIVE for as long as it vacuums the table, minutes or
hours on a large one. PostgreSQL cancels it once a conflicting lock request has waited
deadlock_timeout (1 s) on it, but a step that never queues never triggers that: the executor cancels it
itself (`cancel_autovacuum`), as PostgreSQL would, except a VACUUM that prevents wraparound.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from liveshift.ddl.locks import CONFLICTS, Table
from liveshift.values import Blocker

log = logging.getLogger(__name__)


def regclass_literal(table: Table) -> sql.Composable:
    schema, name = table
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    return sql.Literal(ident.as_string(None))


_QUERY = """
SELECT l.pid, l.relation::regclass::text, l.mode, l.granted, a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
       split_part(coalesce(a.query, ''), E'\\n', 1), a.usename, a.xact_start::text, a.backend_type
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation = ANY({relations}) AND l.mode = ANY({modes}) AND l.pid <> pg_backend_pid()
  AND a.xact_start < clock_timestamp() - {min_age}::interval
ORDER BY a.xact_start, l.pid
"""


def find_blockers(conn: psycopg.Connection, tables: tuple[Table, ...], mode: str, min_age_ms: int) -> list[Blocker]:
    """Backends in a transaction older than `min_age_ms` holding or awaiting a lock on `tables` that conflicts
    with `mode`. A table that does not exist (yet, or any more) has no blockers."""
    query = sql.SQL(_QUERY).format(
        relations=_relations(tables),
        modes=sql.Literal(sorted(CONFLICTS[mode])),
        min_age=sql.Literal(f"{min_age_ms} milliseconds"),
    )
    rows = conn.execute(query).fetchall()
    keys = (
        "pid",
        "table",
        "mode",
        "granted",
        "state",
        "transaction_open_s",
        "query",
        "usename",
        "xact_start",
        "backend_type",
    )
    return [Blocker.model_validate(dict(zip(keys, row, strict=True))) for row in rows]


def _relations(tables: tuple[Table, ...]) -> sql.Composable:
    return sql.SQL("ARRAY[{}]::regclass[]").format(
        sql.SQL(", ").join(sql.SQL("to_regclass({})").format(regclass_literal(t)) for t in tables)
    )


def linked_tables(conn: psycopg.Connection, tables: tuple[Table, ...]) -> tuple[Table, ...]:
    """`tables` and those a foreign key links them to, either way (what dropping a key, column or table locks)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT DISTINCT n.nspname, c.relname FROM pg_constraint con JOIN pg_class c ON c.oid = "
            "CASE WHEN con.conrelid = ANY({rels}) THEN con.confrelid ELSE con.conrelid END "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE con.contype = 'f' AND (con.conrelid = ANY({rels}) OR con.confrelid = ANY({rels})) ORDER BY 1, 2"
        ).format(rels=_relations(tables))
    ).fetchall()
    return tuple(dict.fromkeys([*tables, *((r[0], r[1]) for r in rows)]))


def can_terminate(conn: psycopg.Connection) -> bool:
    """Whether this session may end other backends: a superuser, or a member of pg_signal_backend (which
    may end any backend but a superuser's)."""
    row = conn.execute(
        "SELECT rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    return bool(row and row[0])


def _signal(conn: psycopg.Connection, function: str, blocker: Blocker) -> bool:
    """`function` (pg_terminate_backend, pg_cancel_backend) of `blocker`'s pid, only while it still runs the
    transaction we saw (pids are reused); False if it has ended meanwhile."""
    row = conn.execute(
        sql.SQL("SELECT {}(pid) FROM pg_stat_activity WHERE pid = %s AND xact_start::text = %s").format(
            sql.Identifier("pg_catalog", function)
        ),
        (blocker.pid, blocker.xact_start),
    ).fetchone()
    return bool(row and row[0])


def terminate(conn: psycopg.Connection, blocker: Blocker) -> bool:
    """pg_terminate_backend of `blocker`, only while it still runs the transaction we saw."""
    try:
        ended = _signal(conn, "pg_terminate_backend", blocker)
    except psycopg.errors.InsufficientPrivilege as exc:
        # e.g. a superuser's backend, which pg_signal_backend does not cover
        log.error("cannot terminate blocking backend %d (%s): %s", blocker.pid, blocker.usename, exc)
        return False
    if ended:
        log.warning(
            "terminated backend %d (%s, %s, transaction open %.1fs, %s on %s): %s",
            blocker.pid,
            blocker.usename,
            blocker.state,
            blocker.transaction_open_s,
            blocker.mode,
            blocker.table,
            blocker.query,
        )
    return ended


def cancel_autovacuum(conn: psycopg.Connection, blocker: Blocker) -> bool:
    """pg_cancel_backend of an autovacuum worker still vacuuming in the transaction we saw; False if it is gone
    or this role may not (a superuser may; since PostgreSQL 18, a member of pg_signal_autovacuum_worker)."""
    try:
        cancelled = _signal(conn, "pg_cancel_backend", blocker)
    except psycopg.errors.InsufficientPrivilege as exc:
        log.error(
            "cannot cancel autovacuum worker %d (%s) that blocks the step: %s; the step waits for it to finish "
            "(a superuser, or on PostgreSQL 18 a member of pg_signal_autovacuum_worker, may cancel it)",
            blocker.pid,
            blocker.query,
            exc,
        )
        return False
    if cancelled:
        log.warning(
            "cancelled autovacuum worker %d (%s, running %.1fs, %s on %s), as PostgreSQL cancels one a lock "
            "request waits on",
            blocker.pid,
            blocker.query,
            blocker.transaction_open_s,
            blocker.mode,
            blocker.table,
        )
    return cancelled
