"""Blue and green applications through a transaction pooler, each transaction checked for the version it ran under.

The migration changes accounts.amount (int, units) into amount_cents (bigint, cents): `up` and `down` both change
the value, so a write the dual-write trigger handled as the other side's shows in the physical row. Every
transaction of a client routes itself (liveshift.client, per transaction), writes one row in its version's shape
and reads, in the same transaction, which version its statements ran under (the search_path's first schema and
`liveshift.version`, what the trigger's WHEN clause reads). A request that fails is retried once; one that fails
again is counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psycopg

from liveshift.client import ClientError, VersionRouter
from tests.harness.db import migration

BASELINE = migration(
    "name: accounts_baseline\noperations:\n"
    "  - {op: create_index, name: accounts_owner_idx, table: accounts, columns: [owner]}\n"
)
BLUE = "public_accounts_baseline"
GREEN = "public_accounts_cents"
CENTS = migration(
    "name: accounts_cents\noperations:\n"
    "  - op: alter_column\n    table: accounts\n    column: amount\n    name: amount_cents\n    type: bigint\n"
    "    up: amount::bigint * 100\n    down: (amount_cents / 100)::integer\n"
)
ACCOUNTS = "CREATE TABLE accounts (id bigserial PRIMARY KEY, owner text NOT NULL, amount integer NOT NULL)"

_RAN_UNDER = "SELECT (pg_catalog.current_schemas(false))[1], pg_catalog.current_setting('liveshift.version', true)"


def split_keys(conn: psycopg.Connection, percent: int, each: int) -> tuple[list[str], list[str]]:
    """`each` client keys that stay blue and `each` that go green at a canary share of `percent`."""
    rows = conn.execute(
        "SELECT k, abs(hashtext(k)::bigint) %% 100 < %s "
        "FROM (SELECT 'client-' || g AS k FROM generate_series(1, 200) g) s",
        (percent,),
    ).fetchall()
    return [k for k, g in rows if not g][:each], [k for k, g in rows if g][:each]


def write(conn: psycopg.Connection, version: str, tag: str) -> list[str]:
    """One request's write in `version`'s shape; returns what was wrong about the versions its statements saw."""
    if version == GREEN:
        conn.execute("INSERT INTO accounts (owner, amount_cents) VALUES (%s, %s)", (tag, 700))
    else:
        conn.execute("INSERT INTO accounts (owner, amount) VALUES (%s, %s)", (tag, 7))
    first, setting = conn.execute(_RAN_UNDER).fetchone()  # type: ignore[misc]
    return [f"{tag}: routed {version}, ran under {first}/{setting}"] if (first, setting) != (version, version) else []


@dataclass
class PooledClient:
    """A thread making requests through the pooler with its own key until stopped."""

    dsn: str
    key: str
    router: VersionRouter
    acked: list[tuple[str, str]] = field(default_factory=list)  # (tag, version)
    wrong: list[str] = field(default_factory=list)  # statements that ran under another version
    retried: list[str] = field(default_factory=list)  # first attempts that failed
    failed: list[str] = field(default_factory=list)  # requests that failed after their retry
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()

    def _request(self, conn: psycopg.Connection, tag: str) -> None:
        with self.router.transaction(conn, key=self.key) as version:
            self.wrong += write(conn, version, tag)
        self.acked.append((tag, version))

    def _loop(self) -> None:
        # prepare_threshold=None: PgBouncer 1.18 in transaction pooling cannot keep prepared statements
        with psycopg.connect(self.dsn, prepare_threshold=None) as conn:
            n = 0
            while not self._stop.is_set():
                n += 1
                tag = f"{self.key}-{n}"
                for attempt in (1, 2):
                    try:
                        self._request(conn, f"{tag}.{attempt}")
                        break
                    except (psycopg.Error, ClientError) as exc:
                        (self.retried if attempt == 1 else self.failed).append(f"{type(exc).__name__}: {exc}")
