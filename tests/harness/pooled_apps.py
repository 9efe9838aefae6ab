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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from liveshift.client import ClientError, VersionRouter
from liveshift.connections import open_session
from tests.harness.db import complete, migration

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

RAN_UNDER = "SELECT (pg_catalog.current_schemas(false))[1], pg_catalog.current_setting('liveshift.version', true)"


def split_keys(conn: psycopg.Connection, percent: int, each: int) -> tuple[list[str], list[str]]:
    """`each` client keys that stay blue and `each` that go green at a canary share of `percent`."""
    rows = conn.execute(
        "SELECT k, abs(hashtext(k)::bigint) %% 100 < %s "
        "FROM (SELECT 'client-' || g AS k FROM generate_series(1, 200) g) s",
        (percent,),
    ).fetchall()
    return [k for k, g in rows if not g][:each], [k for k, g in rows if g][:each]


def ran_wrong(version: str, tag: str, ran_under: tuple[Any, ...]) -> list[str]:
    """What was wrong about the versions a request's statements saw (RAN_UNDER's row), given the one it routed."""
    first, setting = ran_under
    return [f"{tag}: routed {version}, ran under {first}/{setting}"] if (first, setting) != (version, version) else []


def write(conn: psycopg.Connection, version: str, tag: str) -> list[str]:
    """One request's write in `version`'s shape; returns what was wrong about the versions its statements saw."""
    if version == GREEN:
        conn.execute("INSERT INTO accounts (owner, amount_cents) VALUES (%s, %s)", (tag, 700))
    else:
        conn.execute("INSERT INTO accounts (owner, amount) VALUES (%s, %s)", (tag, 7))
    return ran_wrong(version, tag, conn.execute(RAN_UNDER).fetchone())  # type: ignore[arg-type]


@dataclass
class RequestLoop:
    """A thread making requests until stopped: `request(tag)` returns (version, what ran under another version);
    a request that fails is retried once, one that fails again is counted. `finish` runs in the thread at the end."""

    name: str
    request: Callable[[str], tuple[str, list[str]]] | None = None
    finish: Callable[[], None] | None = None
    retryable: tuple[type[BaseException], ...] = (psycopg.Error, ClientError)
    acked: list[tuple[str, str]] = field(default_factory=list)  # (tag, version)
    wrong: list[str] = field(default_factory=list)  # statements that ran under another version
    retried: list[str] = field(default_factory=list)  # first attempts that failed
    failed: list[str] = field(default_factory=list)  # requests that failed after their retry
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop(self.request)  # type: ignore[arg-type]
        finally:
            if self.finish is not None:
                self.finish()

    def _loop(self, request: Callable[[str], tuple[str, list[str]]]) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            for attempt in (1, 2):
                tag = f"{self.name}-{n}.{attempt}"
                try:
                    version, wrong = request(tag)
                except self.retryable as exc:
                    (self.retried if attempt == 1 else self.failed).append(f"{type(exc).__name__}: {exc}")
                    continue
                self.wrong += wrong
                self.acked.append((tag, version))
                break


@dataclass
class PooledClient(RequestLoop):
    """A psycopg connection through the pooler, each request one routed transaction with the client's key."""

    dsn: str = ""
    router: VersionRouter | None = None

    def _run(self) -> None:
        assert self.router is not None
        router = self.router
        # prepare_threshold=None: PgBouncer 1.18 in transaction pooling cannot keep prepared statements
        with psycopg.connect(self.dsn, prepare_threshold=None) as conn:

            def request(tag: str) -> tuple[str, list[str]]:
                with router.transaction(conn, key=self.name) as version:
                    return version, write(conn, version, tag)

            self._loop(request)


def run_during(dsn: str, loops: list[RequestLoop], steps: list[Callable[[psycopg.Connection], object]]) -> None:
    """Run `loops` while `steps` run one after another on a session of their own (each after a pause, so requests
    run between them)."""
    for loop in loops:
        loop.start()
    try:
        for step in steps:
            time.sleep(0.3)
            with open_session(dsn) as c:
                step(c)
        time.sleep(0.3)
    finally:
        for loop in loops:
            loop.stop()


def tally(conn: psycopg.Connection, loops: list[RequestLoop]) -> dict[str, int]:
    """What the loops' requests came to: acknowledged, retried (failed once), failed (after their retry), run under
    another version, acknowledged but not in the table (lost), or in it with another value than their writer
    meant (7 units, or 700 cents: the dual-write trigger ran the other side's transform)."""
    acked = {tag: version for loop in loops for tag, version in loop.acked}
    contracted = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'amount_cents'"
    ).fetchone()
    value, expected = ("amount_cents", 700) if contracted else ("amount", 7)
    rows = dict(
        conn.execute(f"SELECT owner, {value} FROM public.accounts WHERE owner = ANY(%s)", (list(acked),)).fetchall()
    )
    return {
        "acknowledged": len(acked),
        "green": sum(1 for v in acked.values() if v == GREEN),
        "retried": sum(len(loop.retried) for loop in loops),
        "failed": sum(len(loop.failed) for loop in loops),
        "wrong version": sum(len(loop.wrong) for loop in loops),
        "lost": len(set(acked) - set(rows)),
        "wrong value": sum(1 for v in rows.values() if v != expected),
    }


def check_kept(conn: psycopg.Connection, loops: list[RequestLoop]) -> dict[str, int]:
    """No statement under another version, no request failed after its retry, both versions served, every
    acknowledged write in the table with the value its writer meant. Returns the tally."""
    assert [w for loop in loops for w in loop.wrong] == []
    assert [f for loop in loops for f in loop.failed] == []
    counts = tally(conn, loops)
    assert 0 < counts["green"] < counts["acknowledged"]  # both versions served
    assert (counts["lost"], counts["wrong value"]) == (0, 0), counts
    return counts


def set_up_accounts(conn: psycopg.Connection, dsn: str) -> None:
    """The accounts table with seeded rows, and the baseline migration completed (blue's version)."""
    conn.execute(ACCOUNTS)
    conn.execute("INSERT INTO accounts (owner, amount) SELECT 'seed-' || g, g FROM generate_series(1, 100) g")
    complete(dsn, BASELINE)


def user_of(dsn: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(dsn).get("user") or "postgres")


@dataclass
class LeakObserver(RequestLoop):
    """An unrouted client through the pooler (autocommit, no liveshift.client): any version it finds in its
    session (search_path or liveshift.version) leaked from another client's transaction."""

    dsn: str = ""

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, prepare_threshold=None) as conn:

            def request(tag: str) -> tuple[str, list[str]]:
                first, setting = conn.execute(RAN_UNDER).fetchone()  # type: ignore[misc]
                leaked = (first or "").startswith("public_") or bool(setting)
                time.sleep(0.005)
                return "unrouted", [f"{tag}: an unrouted statement ran under {first}/{setting}"] if leaked else []

            self._loop(request)
