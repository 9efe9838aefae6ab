"""A running application for liveshift.client's tests: it ships code for both shapes of `users`.

The migration renames users.name to full_name. Blue's code writes `name`, green's `full_name`; each
request asks its connection which version it serves and takes that code path. `RunningApp` makes
requests in a thread until stopped, keeping every acknowledged write (tag, version) and counting
failed requests (never acknowledged, so never counted as kept).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from liveshift import phases
from liveshift.client import ClientError
from liveshift.connections import open_session
from tests.harness.db import complete, migration, through_verify
from tests.harness.scenario import Table, count, expand, load_tables

# the migration under test starts from a completed one: rolling back a schema's first migration also drops
# public_base and the schema's row in liveshift.active_versions, leaving an application no version at all
BASELINE = migration(
    "name: users_baseline\noperations:\n  - {op: create_index, name: users_name_idx, table: users, columns: [name]}\n"
)
BLUE = "public_users_baseline"
GREEN = "public_users_full_name"
MIGRATION = migration(
    "name: users_full_name\noperations:\n  - {op: rename_column, table: users, column: name, to: full_name}\n"
)
USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text",
    rows=100,
    values={"email": "'u' || g || '@x.org'", "name": "'n' || g"},
)
WAIT = 60.0  # seconds before a wait for the application is a failure (never reached when it works)


def expanded(dsn: str, conn: psycopg.Connection) -> None:
    """The users table, the baseline migration completed, the migration under test expanded."""
    load_tables(conn, (USERS,))
    complete(dsn, BASELINE)
    expand(dsn, MIGRATION)


def cut_over(dsn: str) -> None:
    report = through_verify(dsn, MIGRATION)
    assert report.ok, report.summary()
    with open_session(dsn) as c:
        phases.cutover(c, MIGRATION.name)


def roll_back(dsn: str) -> None:
    with open_session(dsn) as c:
        phases.rollback(c, MIGRATION.name)


def write(conn: psycopg.Connection, version: str, tag: int) -> None:
    """One request's write, in the shape of `version`, read back through it."""
    column = sql.Identifier("full_name" if version == GREEN else "name")
    conn.execute(sql.SQL("INSERT INTO users (email, {}) VALUES (%s, %s)").format(column), (f"a{tag}@x.org", version))
    found = conn.execute(sql.SQL("SELECT {} FROM users WHERE email = %s").format(column), (f"a{tag}@x.org",))
    assert found.fetchone() == (version,)


def kept(conn: psycopg.Connection, tags: list[int]) -> None:
    """Every acknowledged write is in the physical table (once: email is unique), besides the seeded rows.

    A request that failed after its write committed (Django autocommits each statement) may have
    left its row too: only acknowledged writes are counted.
    """
    emails = [f"a{t}@x.org" for t in tags]
    assert count(conn, "SELECT count(*) FROM public.users WHERE email = ANY(%s)", emails) == len(tags)
    assert count(conn, "SELECT count(*) FROM public.users WHERE email NOT LIKE 'a%%@x.org'") == USERS.rows


@dataclass
class RunningApp:
    """Calls `request(tag) -> version` in a thread until stopped."""

    request: Callable[[int], str]
    retryable: tuple[type[BaseException], ...] = (psycopg.Error, ClientError)  # what a failed request raises
    finish: Callable[[], None] | None = None  # run in the application's thread when it stops
    acked: list[tuple[int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> RunningApp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive()

    def _loop(self) -> None:
        tag = 0
        while not self._stop.is_set():
            tag += 1
            try:
                version = self.request(tag)
            except self.retryable as exc:  # not acknowledged: the application would retry
                self.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with self._changed:
                self.acked.append((tag, version))
                self._changed.notify_all()
        if self.finish is not None:
            self.finish()

    def served(self, version: str, after: int = 0) -> int:
        """Wait until a request started after acknowledgement number `after` was served by `version`."""

        def seen() -> bool:
            return any(v == version for _, v in self.acked[after:])

        with self._changed:
            assert self._changed.wait_for(seen, WAIT), f"no request served by {version}: {self.failures[-3:]}"
            return len(self.acked)

    @property
    def tags(self) -> list[int]:
        return [tag for tag, _ in self.acked]
