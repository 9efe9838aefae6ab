"""Watching for lock queues while a step runs: a `Watch` polls pg_locks for liveshift backends waiting and for
application statements waiting on liveshift, `App`s issue short statements all along, `old_transaction` holds a
conflicting lock for longer than the executor's threshold, and `POLICY` makes the executor's waits short."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from liveshift.values import LockPolicy
from tests.harness.db import client

POLICY = LockPolicy(blocker_min_age_ms=200, blocker_poll_s=0.02, backoff_initial_s=0.02, backoff_max_s=0.1)
WAIT_S = 60  # generous upper bounds for events that must happen; never an assertion about speed


_WAITERS = """
SELECT w.pid, w.application_name, l.relation::regclass::text, l.mode,
       EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(w.pid)) b JOIN pg_stat_activity s ON s.pid = b
               WHERE s.application_name = 'liveshift')
FROM pg_locks l JOIN pg_stat_activity w ON w.pid = l.pid
WHERE NOT l.granted AND w.datname = current_database()
"""


class Watch(threading.Thread):
    """Polls pg_locks every 10 ms while `active`: liveshift waiters, and waiters blocked by liveshift."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.active = threading.Event()
        self.stop = threading.Event()
        self.busy = threading.Lock()  # held during a poll
        self.polls = 0
        self.liveshift_waiting: list[tuple[object, ...]] = []
        self.waiting_on_liveshift: list[tuple[object, ...]] = []

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="ls-test-watch") as conn:
            while not self.stop.is_set():
                with self.busy:
                    if self.active.is_set():
                        for row in conn.execute(_WAITERS).fetchall():
                            if row[1] == "liveshift":
                                self.liveshift_waiting.append(row)
                            elif row[4]:
                                self.waiting_on_liveshift.append(row)
                        self.polls += 1
                time.sleep(0.01)

    def pause(self) -> None:
        """Stop watching, once the poll under way (which may read pg_locks later) is over."""
        self.active.clear()
        with self.busy:
            pass

    def polled(self, n: int) -> None:
        """Wait until `n` more polls have run."""
        target = self.polls + n
        deadline = time.monotonic() + WAIT_S
        while self.polls < target and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.polls >= target, "the watcher stopped polling"


class App(threading.Thread):
    """An application on one version (None: the physical schema), one short statement after another."""

    def __init__(self, dsn: str, version: str | None, statements: list[str]) -> None:
        super().__init__(daemon=True)
        self.dsn, self.version, self.statements = dsn, version, statements
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.count = 0

    def run(self) -> None:
        try:
            with client(self.dsn, self.version) as conn:
                conn.execute("SET application_name = 'ls-test-app'")
                while not self.stop.is_set():
                    conn.execute(self.statements[self.count % len(self.statements)])
                    self.count += 1
                    time.sleep(0.002)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)


@contextmanager
def running(*threads: App | Watch) -> Iterator[None]:
    for t in threads:
        t.start()
    try:
        yield
    finally:
        for t in threads:
            t.stop.set()
        for t in threads:
            t.join(WAIT_S)
    for t in threads:
        assert not getattr(t, "errors", []), t.errors  # type: ignore[attr-defined]


def wait_until_older(dsn: str, pid: int, min_age_ms: int) -> None:
    """Until backend `pid`'s transaction has been open longer than `min_age_ms`, as the server counts."""
    with psycopg.connect(dsn, autocommit=True) as probe:
        while not probe.execute(
            "SELECT clock_timestamp() - xact_start > %s * interval '1 millisecond' FROM pg_stat_activity "
            "WHERE pid = %s",
            (min_age_ms, pid),
        ).fetchone()[0]:
            time.sleep(0.01)


@contextmanager
def old_transaction(dsn: str, table: str, lock: str, min_age_ms: int) -> Iterator[psycopg.Connection]:
    """A transaction holding `lock` on `table`, open longer than `min_age_ms` (as the server counts)."""
    holder = psycopg.connect(dsn, application_name="ls-test-holder")
    holder.execute(f"LOCK TABLE {table} IN {lock} MODE")
    wait_until_older(dsn, holder.info.backend_pid, min_age_ms)
    try:
        yield holder
    finally:
        if not holder.closed:
            holder.rollback()
            holder.close()


def in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:  # reported by the caller
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)
