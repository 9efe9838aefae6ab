"""What an application holds: one schema's flag, and how its connections are pointed at a version."""

from __future__ import annotations

import contextlib
import socket
import time
import weakref

import psycopg

from liveshift.client import session
from liveshift.client.errors import ClientError, VersionUnavailable
from liveshift.client.flag import DEFAULT_TTL, Clock, VersionFlag


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
        clock: Clock = time.monotonic,
    ) -> None:
        self.flag = VersionFlag(schema, ttl, clock)
        self.key = key if key is not None else socket.gethostname()
        self.pin = pin  # a version this application can only use; after its contract or rollback, an error
        self._clock = clock
        self._failures: weakref.WeakKeyDictionary[psycopg.Connection, ClientError] = weakref.WeakKeyDictionary()

    @property
    def schema(self) -> str:
        return self.flag.schema

    def point(self, conn: psycopg.Connection, key: str | None = None) -> str:
        """Point `conn` at its version and return it; on ClientError `conn` resolves no application relation."""
        key = self.key if key is None else key
        try:
            version = self._point(conn, key)
        except ClientError as exc:
            with contextlib.suppress(psycopg.Error):  # a broken connection resolves nothing either
                session.unpoint(conn)
            self._failures[conn] = exc
            raise
        self._failures.pop(conn, None)
        return version

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
        with contextlib.suppress(ClientError):  # kept for version_of; the connection resolves nothing meanwhile
            self.point(conn)

    def version_of(self, conn: psycopg.Connection) -> str:
        """The version `conn` serves, to pick the code path for its shape; the error that kept it from one."""
        failure = self._failures.get(conn)
        if failure is not None:
            raise failure
        current = session.pointing(conn)
        if current is None:
            raise ClientError(f"this connection was not set up by liveshift.client for schema {self.schema!r}")
        return current.version
