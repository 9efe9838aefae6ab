"""The flag: which version schema a client key gets, read from `liveshift.version_for` and cached briefly.

The cache bounds the staleness, not the database load alone: a shift or a rollback reaches a
process at most `ttl` seconds after it happened, at its next connection checkout.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

from liveshift.client.errors import NoVersion
from liveshift.client.session import query_idle

Clock = Callable[[], float]
_VERSION_FOR = sql.SQL("SELECT liveshift.version_for(%s, %s)")
DEFAULT_TTL = 2.0
# readings kept at most: per-request keys (user ids) would otherwise grow the cache by one entry per key, forever
MAX_KEYS = 1024


@dataclass(frozen=True)
class Reading:
    version: str
    read_at: float


def read_version(conn: psycopg.Connection, schema: str, key: str | None) -> str:
    """`liveshift.version_for(schema, key)` on `conn`, as one idle-to-idle round trip."""
    try:
        row = query_idle(conn, _VERSION_FOR, (schema, key))
    except (errors.UndefinedFunction, errors.InvalidSchemaName, errors.UndefinedTable):
        raise NoVersion(schema, "liveshift is not installed in this database (no liveshift.version_for)") from None
    except errors.InsufficientPrivilege as exc:
        why = f"role {conn.info.user!r} may not read the flag ({exc.diag.message_primary})"
        raise NoVersion(schema, why) from None
    if row is None or row[0] is None:
        raise NoVersion(schema, "no migration has registered it yet (liveshift.active_versions has no row)")
    return str(row[0])


class VersionFlag:
    """The version each client key gets, re-read from the database once its reading is `ttl` seconds old."""

    def __init__(
        self, schema: str = "public", ttl: float = DEFAULT_TTL, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        self.schema = schema
        self.ttl = ttl
        self.max_keys = max_keys
        self._clock = clock
        self._readings: OrderedDict[str | None, Reading] = OrderedDict()  # least recently read first
        self._lock = threading.Lock()

    def cached(self, key: str | None) -> str | None:
        """The version read for `key` within the last `ttl` seconds, if any."""
        with self._lock:
            reading = self._readings.get(key)
            if reading is not None:
                self._readings.move_to_end(key)
        if reading is None or self._clock() - reading.read_at >= self.ttl:
            return None
        return reading.version

    def version(self, conn: psycopg.Connection, key: str | None) -> str:
        """The cached version, or a fresh reading (on `conn`) once the cached one is stale."""
        return self.cached(key) or self.refresh(conn, key)

    def refresh(self, conn: psycopg.Connection, key: str | None) -> str:
        version = read_version(conn, self.schema, key)
        with self._lock:
            self._readings[key] = Reading(version, self._clock())
            self._readings.move_to_end(key)
            while len(self._readings) > self.max_keys:
                self._readings.popitem(last=False)
        return version

    def __len__(self) -> int:
        return len(self._readings)
