"""Pointing one connection at a version schema: its search_path is that schema and pg_catalog, nothing else.

No fallback to the physical schema: a relation the version lacks is an error, never the table
underneath. Each connection remembers the version it was pointed at, so the application can pick
the code path for that shape (`pointing`) and a checkout that finds it current costs no round trip.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from liveshift.client.errors import VersionUnavailable


@dataclass(frozen=True)
class Pointing:
    version: str
    at: float  # when it was checked (the router's clock)


# the version each live connection was pointed at (weak: a closed, dropped connection leaves no entry)
_pointed: weakref.WeakKeyDictionary[psycopg.Connection, Pointing] = weakref.WeakKeyDictionary()

# one round trip: whether the schema exists and may be used, and (only then) the new search_path
_POINT = sql.SQL(
    "SELECT has_schema_privilege(n.oid, 'USAGE'), current_user::text, "
    "CASE WHEN has_schema_privilege(n.oid, 'USAGE') THEN set_config('search_path', %s, false) END "
    "FROM pg_catalog.pg_namespace n WHERE n.nspname = %s"
)
_UNPOINT = sql.SQL("SELECT set_config('search_path', 'pg_catalog', false)")


def query_idle(conn: psycopg.Connection, query: sql.Composable, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Run one query on an idle connection and leave it idle: committed (a SET survives), or rolled back."""
    opened = not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
    try:
        row = conn.execute(query, params).fetchone()
    except BaseException:
        if opened:
            conn.rollback()
        raise
    if opened:
        conn.commit()
    return row


def search_path(conn: psycopg.Connection, version: str) -> str:
    return sql.SQL("{}, pg_catalog").format(sql.Identifier(version)).as_string(conn)


def point(conn: psycopg.Connection, schema: str, version: str, at: float) -> None:
    """Set `conn`'s search_path to `version` (and pg_catalog), or raise VersionUnavailable naming it."""
    row = query_idle(conn, _POINT, (search_path(conn, version), version))
    if row is None:
        _pointed.pop(conn, None)
        raise VersionUnavailable(
            schema, version, "does not exist (its migration was contracted or rolled back)", missing=True
        )
    usable, role, _ = row
    if not usable:
        _pointed.pop(conn, None)
        raise VersionUnavailable(
            schema, version, f"cannot be used by role {role!r}: it lacks USAGE on schema {version!r}", missing=False
        )
    _pointed[conn] = Pointing(version, at)


def pointing(conn: psycopg.Connection) -> Pointing | None:
    """The version `conn` was last pointed at by liveshift.client, and when, if any."""
    return _pointed.get(conn)


def unpoint(conn: psycopg.Connection) -> None:
    """Leave `conn` with pg_catalog alone in its search_path: no application relation resolves."""
    query_idle(conn, _UNPOINT, ())
    _pointed.pop(conn, None)
