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
from psycopg import errors, sql
from psycopg.pq import TransactionStatus

from liveshift.client.errors import ClientError, NoVersion, VersionUnavailable


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


# -- per transaction: nothing outlives the transaction (transaction poolers) ----------------------------------

_ROUTE = sql.SQL("SELECT liveshift.use_version(%s, %s, %s)")
NO_VERSION, VERSION_MISSING, NO_USAGE = "LS001", "LS002", "LS003"  # liveshift.use_version's SQLSTATEs


def route(conn: psycopg.Connection, schema: str, key: str | None, version: str | None) -> str:
    """Route the transaction `conn` is in (or begins now) to `version`, or to the flag's version for `key`.

    `liveshift.use_version` sets search_path and `liveshift.version` for this transaction only, so the next
    client a transaction pooler gives this server connection inherits nothing. Raises VersionUnavailable or
    NoVersion (the transaction is then aborted: the caller rolls it back)."""
    if conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:  # not in conn.transaction()
        raise ClientError(
            "routing per transaction needs a transaction: this connection is in autocommit mode, where each "
            "statement is its own transaction (use router.transaction(conn), or autocommit off)"
        )
    try:
        row = conn.execute(_ROUTE, (schema, key, version)).fetchone()
    except psycopg.Error as exc:
        raise _route_error(conn, schema, version, exc) from None
    assert row is not None
    return str(row[0])


def _route_error(conn: psycopg.Connection, schema: str, version: str | None, exc: psycopg.Error) -> Exception:
    state = exc.sqlstate
    named = version or "the flag's version"
    if state == VERSION_MISSING:
        why = "does not exist (its migration was contracted or rolled back)"
        return VersionUnavailable(schema, _quoted(exc) or named, why, missing=True)
    if state == NO_USAGE:
        ver = _quoted(exc, last=True) or named
        why = f"cannot be used by role {conn.info.user!r}: it lacks USAGE on schema {ver!r}"
        return VersionUnavailable(schema, ver, why, missing=False)
    if state == NO_VERSION:
        return NoVersion(schema, "no migration has registered it yet (run `liveshift init`, or a migration)")
    if isinstance(exc, errors.UndefinedFunction | errors.InvalidSchemaName):
        return NoVersion(schema, "liveshift is not installed in this database, or predates liveshift.use_version")
    if isinstance(exc, errors.InsufficientPrivilege):
        return NoVersion(schema, f"role {conn.info.user!r} may not read the flag ({exc.diag.message_primary})")
    return exc


def _quoted(exc: psycopg.Error, last: bool = False) -> str | None:
    """The first (or last) 'quoted' name in use_version's message: the version it names."""
    parts = (exc.diag.message_primary or "").split("'")
    names = parts[1::2]
    return (names[-1] if last else names[0]) if names else None
