"""What an application holds: one schema's flag, and how its connections are pointed at a version."""

from __future__ import annotations

import contextlib
import socket
import time
import weakref
from collections.abc import Iterator
from typing import Any, Literal

import psycopg

from liveshift.client import session
from liveshift.client.errors import ClientError, VersionUnavailable
from liveshift.client.flag import DEFAULT_TTL, MAX_KEYS, Clock, VersionFlag
from liveshift.client.keys import current_key

Pooling = Literal["session", "transaction"]
POOLINGS = ("session", "transaction")


def require_psycopg3(conn: Any) -> psycopg.Connection:
    """liveshift.client drives psycopg 3 connections; anything else (psycopg2 above all) is refused by name."""
    if isinstance(conn, psycopg.Connection):
        return conn
    kind = f"{type(conn).__module__}.{type(conn).__qualname__}"
    raise ClientError(
        f"liveshift.client needs a psycopg 3 connection (package `psycopg`), got {kind}: psycopg2 is not "
        "supported; with SQLAlchemy use a postgresql+psycopg:// URL, with Django psycopg 3 installed"
    )


class VersionRouter:
    """Points connections at the version the flag gives a client key (or at a pinned version).

    `key` is the stable client key `liveshift.version_for` hashes for a canary share (default: the
    host name, so one process stays on one version). A connection is re-checked at most every `ttl`
    seconds: a checkout that finds it pointed at the flag's version within that time costs nothing.
    """

    def __init__(
        self,
        schema: str = "public",
        *,
        key: str | None = None,
        ttl: float = DEFAULT_TTL,
        pin: str | None = None,
        pooling: Pooling = "session",
        max_keys: int = MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.flag = VersionFlag(schema, ttl, clock, max_keys)
        # "session": a connection's search_path is set once per check (direct connections, session pooling);
        # "transaction": each transaction is routed on its own, nothing kept in the session (transaction pooling)
        self.pooling = pooling
        self.key = key if key is not None else socket.gethostname()
        self.pin = pin  # a version this application can only use; after its contract or rollback, an error
        self._clock = clock
        self._failures: weakref.WeakKeyDictionary[psycopg.Connection, ClientError] = weakref.WeakKeyDictionary()
        self._routed: weakref.WeakKeyDictionary[psycopg.Connection, str] = weakref.WeakKeyDictionary()

    @property
    def schema(self) -> str:
        return self.flag.schema

    def point(self, conn: psycopg.Connection, key: str | None = None) -> str:
        """Point `conn` at its version and return it; on ClientError `conn` resolves no application relation."""
        conn = require_psycopg3(conn)
        key = self.key_for(key)
        try:
            version = self._point(conn, key)
        except ClientError as exc:
            with contextlib.suppress(psycopg.Error):  # a broken connection resolves nothing either
                session.unpoint(conn)
            self._failures[conn] = exc
            raise
        self._failures.pop(conn, None)
        return version

    def key_for(self, key: str | None = None) -> str:
        """The key given, else the enclosing `using_key` block's, else the router's own."""
        return key if key is not None else current_key() or self.key

    def route(self, conn: psycopg.Connection, key: str | None = None, hold: str | None = None) -> str:
        """Route the transaction `conn` is in (or begins now) and return its version: session state untouched.

        The flag is read in the same round trip (no cache to go stale); `hold` keeps a version a request
        already started with (or the router's pin). A ClientError leaves the transaction aborted."""
        conn = require_psycopg3(conn)
        try:
            version = session.route(conn, self.schema, self.key_for(key), self.pin or hold)
        except ClientError as exc:
            self._failures[conn] = exc
            self._routed.pop(conn, None)
            raise
        self._failures.pop(conn, None)
        self._routed[conn] = version
        return version

    @contextlib.contextmanager
    def transaction(self, conn: psycopg.Connection, key: str | None = None, hold: str | None = None) -> Iterator[str]:
        """`with router.transaction(conn) as version:` one routed transaction (committed, or rolled back on error)."""
        conn = require_psycopg3(conn)
        with conn.transaction():
            yield self.route(conn, key, hold)

    def _point(self, conn: psycopg.Connection, key: str) -> str:
        wanted = self.pin or self.flag.version(conn, key)
        now = self._clock()
        current = session.pointing(conn)
        if current is not None and current.version == wanted and now - current.at < self.flag.ttl:
            return wanted
        try:
            session.point(conn, self.schema, wanted, now)
        except VersionUnavailable as gone:
            if self.pin or not gone.missing:
                raise
            # the cached reading named a version dropped since (rollback, contract): read the flag again
            fresh = self.flag.refresh(conn, key)
            if fresh == wanted:
                raise
            session.point(conn, self.schema, fresh, now)
            wanted = fresh
        return wanted

    def prepare(self, conn: psycopg.Connection) -> None:
        """`point` for callbacks that must not raise (a pool's configure/check): `version_of` raises instead."""
        if self.pooling == "transaction":
            return  # nothing is kept in the session: each transaction is routed (router.transaction)
        with contextlib.suppress(ClientError):  # kept for version_of; the connection resolves nothing meanwhile
            self.point(conn)

    def version_of(self, conn: psycopg.Connection) -> str:
        """The version `conn` serves, to pick the code path for its shape; the error that kept it from one."""
        conn = require_psycopg3(conn)
        failure = self._failures.get(conn)
        if failure is not None:
            raise failure
        routed = self._routed.get(conn)
        if routed is not None and self.pooling == "transaction":
            return routed
        current = session.pointing(conn)
        if current is None:
            raise ClientError(f"this connection was not set up by liveshift.client for schema {self.schema!r}")
        return current.version
