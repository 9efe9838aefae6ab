"""Lock safety: while another session holds a conflicting lock for 10 s, the step waits outside the lock
queue (it reports the blocker and never appears among pg_locks' waiters), so no application statement
waits on it; it completes once the blocker ends. A failed CREATE INDEX CONCURRENTLY leaves no INVALID
index behind."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.ddl.statements import create_index_concurrently
from liveshift.ddl.steps import Step
from liveshift.errors import LockRetriesExhausted
from liveshift.store.record import load_record
from liveshift.values import LockPolicy, LockWait
from tests.harness.db import LockEvents, migration, snapshot, through_verify
from tests.harness.zero_stall import Watch, wait_until_older

pytestmark = pytest.mark.integration

BLOCK_S = 10.0
POLICY = LockPolicy(backoff_initial_s=0.2, backoff_max_s=1.0, max_attempts=60)
MIGRATION = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false}
    up: lower(email)
"""
GREEN = "public_users_email_lower"


@pytest.fixture
def users(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute("INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, 2000) g")
    return conn


class App:
    """An application issuing statements back to back, timing every one."""

    def __init__(self, dsn: str, version: str | None, green: bool) -> None:
        self.dsn, self.version, self.green = dsn, version, green
        self.latencies: list[tuple[float, float]] = []  # (started at, seconds)
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        path = f"{self.version},public" if self.version else "public"
        rng = random.Random(0)
        try:
            with psycopg.connect(
                self.dsn, autocommit=True, options=f"-c search_path={path} -c statement_timeout=30s"
            ) as app:
                while not self.stop.is_set():
                    key = rng.randrange(1, 2000)
                    started = time.monotonic()
                    if rng.random() < 0.5:
                        app.execute("SELECT email FROM users WHERE id = %s", (key,)).fetchall()
                    elif self.green:
                        app.execute("INSERT INTO users (email, email_lower) VALUES ('G@x', 'g@x')")
                    else:
                        app.execute("INSERT INTO users (email) VALUES ('B@x')")
                    self.latencies.append((started, time.monotonic() - started))
                    time.sleep(0.005)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def __enter__(self) -> App:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(40)


def run_blocked(dsn: str, block: Callable[[psycopg.Connection], None], phase: Callable[..., None], app: App) -> None:
    """Hold `block`'s lock for BLOCK_S while `phase` runs in a thread and `app` keeps working."""
    waits: list[LockWait] = []
    outcome: list[BaseException | float] = []

    def work() -> None:
        try:
            with open_session(dsn) as conn:
                phase(conn, "users_email_lower", runner=StepRunner(POLICY, LockEvents(waits)))
            outcome.append(time.monotonic())
        except BaseException as exc:  # reported below
            outcome.append(exc)

    holder = psycopg.connect(dsn)  # not autocommit: the lock lasts until rollback
    block(holder)
    holder_pid = holder.info.backend_pid
    # older than the threshold: a younger one is not waited for (a 50 ms lock request may queue behind it)
    wait_until_older(dsn, holder_pid, POLICY.blocker_min_age_ms)
    watch = Watch(dsn)
    watch.start()
    with app:
        blocked_at = time.monotonic()
        watch.active.set()
        worker = threading.Thread(target=work)
        worker.start()
        time.sleep(BLOCK_S)
        assert worker.is_alive(), "the step finished although the table was locked"
        watch.pause()
        holder.rollback()
        released_at = time.monotonic()
        holder.close()
        worker.join(30)
        time.sleep(0.3)
    watch.stop.set()
    watch.join(10)
    assert not app.errors, app.errors
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    # while blocked it waited outside the queue, saying for whom, and completed once the blocker ended
    assert [b.pid for b in waits[0].blockers] == [holder_pid]
    assert not waits[-1].blockers and waits[-1].waited_s > 0
    assert watch.polls > 100, watch.polls
    assert not watch.liveshift_waiting, watch.liveshift_waiting
    assert not watch.waiting_on_liveshift, watch.waiting_on_liveshift
    # the application kept working meanwhile
    during = [seconds for started, seconds in app.latencies if blocked_at <= started <= released_at]
    assert len(during) > 50, len(during)


def test_expand_behind_an_explicit_lock(dsn: str, users: psycopg.Connection) -> None:
    with open_session(dsn) as conn:
        phases.prepare(conn, migration(MIGRATION))
    run_blocked(dsn, lambda h: h.execute("LOCK TABLE users IN ACCESS SHARE MODE"), phases.expand, App(dsn, None, False))
    assert load_record(users, "users_email_lower").status == "expanded"
    assert users.execute("SELECT count(*) FROM users WHERE _ls_written_by = 'b'").fetchone()[0] > 0


def test_contract_behind_a_long_select(dsn: str, users: psycopg.Connection) -> None:
    m = migration(MIGRATION)
    assert through_verify(dsn, m).ok
    with open_session(dsn) as conn:
        phases.cutover(conn, m.name)
    run_blocked(
        dsn, lambda h: h.execute("SELECT count(*) FROM users").fetchall(), phases.contract, App(dsn, GREEN, True)
    )
    assert load_record(users, m.name).status == "complete"
    assert users.execute("SELECT count(*) FROM users WHERE email_lower IS NULL").fetchone() == (0,)


def invalid_indexes(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid AND indrelid = 'users'::regclass"
        )
    ]


def test_failed_unique_index_is_cleaned_up(dsn: str, users: psycopg.Connection) -> None:
    users.execute("UPDATE users SET email = 'same' WHERE id <= 2")
    step = create_index_concurrently("public", "users", "users_email_key", ["email"], unique=True)
    with open_session(dsn) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        StepRunner().run_step(conn, step)
    assert invalid_indexes(users) == []
    assert users.execute("SELECT to_regclass('users_email_key')").fetchone() == (None,)


def test_failed_unique_index_in_expand_leaves_nothing_and_rolls_back(dsn: str, users: psycopg.Connection) -> None:
    users.execute("UPDATE users SET email = 'same' WHERE id <= 2")
    before = snapshot(users)
    m = migration(
        "name: users_email_unique\noperations:\n"
        "  - {op: create_index, name: users_email_uq, table: users, columns: [email], unique: true}\n"
    )
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        with pytest.raises(psycopg.errors.UniqueViolation):
            phases.expand(conn, m.name)
        assert invalid_indexes(users) == []
        phases.rollback(conn, m.name, reason="duplicate emails")
    assert snapshot(users) == before


def test_index_build_behind_an_old_transaction(dsn: str, users: psycopg.Connection) -> None:
    """CONCURRENTLY waits for older snapshots; a lock timeout there leaves an INVALID index, which goes."""
    step: Step = create_index_concurrently("public", "users", "users_email_idx", ["email"])
    old = psycopg.connect(dsn)
    old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    old.execute("SELECT 1").fetchall()  # holds a snapshot older than the index build
    quick = LockPolicy(concurrent_lock_timeout_ms=300, backoff_initial_s=0.05, backoff_max_s=0.1, max_attempts=3)
    events = LockEvents()
    with open_session(dsn) as conn:
        with pytest.raises(LockRetriesExhausted):
            StepRunner(quick, events).run_step(conn, step)
        assert events.retries == [1, 2, 3]
        assert invalid_indexes(users) == []
        assert users.execute("SELECT to_regclass('users_email_idx')").fetchone() == (None,)

        # the old transaction ends while the step retries: it completes with a valid index
        threading.Timer(1.0, old.rollback).start()
        patient = quick.model_copy(update={"max_attempts": 40})
        outcome = StepRunner(patient).run_step(conn, step)
    old.close()
    assert outcome.attempts > 1
    assert invalid_indexes(users) == []
    assert users.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass"
    ).fetchone() == (True,)
