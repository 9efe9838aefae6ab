"""The safe DDL executor: wait outside the lock queue, then a short lock_timeout, retry with backoff and jitter.

A statement that waits for a lock makes every later conflicting statement on the table queue behind
it. So before requesting a lock that application statements conflict with, the executor waits, without
requesting anything, while a transaction older than a short threshold holds or awaits a conflicting lock
on the step's tables (blockers.py; an autovacuum worker among them is cancelled, as PostgreSQL cancels one
a queued lock request waits on); then it requests the lock with a short `lock_timeout` (50 ms), so a
lock taken in between (a young transaction, or an old one that touched the table after we looked) costs
the application at most that; it gives up the request, backs off with jitter and looks again.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg import errors, sql

from liveshift.ddl.blockers import can_terminate, cancel_autovacuum, find_blockers, linked_tables, terminate
from liveshift.ddl.locks import ACCESS_EXCLUSIVE, Lock, Table, read_lock, strongest
from liveshift.ddl.statements import short_lock_waits
from liveshift.ddl.steps import Step
from liveshift.errors import LockRetriesExhausted, SpecError
from liveshift.values import Blocker, LockPolicy, LockWait

log = logging.getLogger(__name__)

RETRYABLE = (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure)


@dataclass
class StepOutcome:
    skipped: bool
    attempts: int
    waited_s: float = 0.0  # outside the lock queue, for blockers


class LockHooks(Protocol):
    """Who hears of a phase's lock retries and waits (the activity's LockReporter), on the DB thread."""

    def on_retry(self, step: Step, attempt: int) -> None: ...

    def on_wait(self, wait: LockWait) -> None: ...


class NoLockHooks:
    """Nobody listens (the CLI, tests)."""

    def on_retry(self, step: Step, attempt: int) -> None:
        pass

    def on_wait(self, wait: LockWait) -> None:
        pass


def backoff_delay(policy: LockPolicy, attempt: int, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
    """Full jitter: uniform in [0, min(max, initial * 2^attempt)]."""
    return rng.uniform(0, min(policy.backoff_max_s, policy.backoff_initial_s * (2**attempt)))


def check_policy(conn: psycopg.Connection, policy: LockPolicy) -> None:
    """Refuse at start what would fail at a step: terminating blockers without the privilege to."""
    if policy.terminate_blockers_after_s is not None and not can_terminate(conn):
        raise SpecError(
            "terminate_blockers_after_s is set, but the role cannot end other backends: "
            "it must be a superuser or a member of pg_signal_backend",
            field="terminate_blockers_after_s",
        )


def already_applied(conn: psycopg.Connection, step: Step) -> bool:
    if step.skip_if is None:
        return False
    row = conn.execute(step.skip_if).fetchone()
    return bool(row and row[0])


def _drop_invalid_index(conn: psycopg.Connection, index: sql.Composable, policy: LockPolicy) -> None:
    row = conn.execute(
        sql.SQL("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass({})").format(
            sql.Literal(index.as_string(conn))
        )
    ).fetchone()
    if row and row[0]:
        log.info("dropping INVALID index %s left by a failed CREATE INDEX CONCURRENTLY", index.as_string(conn))
        # bounded like every other lock wait: a timeout here surfaces as a retryable lock error
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{policy.concurrent_lock_timeout_ms}ms")))
        try:
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(index))
        finally:
            conn.execute("RESET lock_timeout")


def _end_blockers(
    conn: psycopg.Connection, blockers: list[Blocker], policy: LockPolicy, ended: list[Blocker], refused: set[int]
) -> None:
    """Cancel each autovacuum worker PostgreSQL would cancel; with terminate_blockers_after_s, terminate each
    other backend whose transaction is older than that. `ended` and `refused` (pids this role may not signal)
    carry over between polls."""
    after = policy.terminate_blockers_after_s
    done = {(b.pid, b.xact_start) for b in ended}
    for blocker in blockers:
        if (blocker.pid, blocker.xact_start) in done or blocker.pid in refused:
            continue
        if blocker.cancellable_autovacuum:
            ok = cancel_autovacuum(conn, blocker)
        elif after is not None and blocker.transaction_open_s >= after and not blocker.autovacuum:
            ok = terminate(conn, blocker)
        else:
            continue
        if ok:
            ended.append(blocker)
        else:
            refused.add(blocker.pid)


def lock_of(step: Step) -> Lock:
    """What the step locks: as its builder declared it. The user's raw SQL declares nothing (liveshift cannot
    know what arbitrary SQL locks): for it, what pglast reads from the SQL, as the executor always did; SQL it
    cannot read locks no table it knows of (no wait outside the queue, the longer lock_timeout)."""
    return step.lock if step.lock is not None else read_lock(step.statement.as_string(None))


def wait_scope(conn: psycopg.Connection, step: Step) -> tuple[tuple[Table, ...], str] | None:
    """The tables whose old transactions the step waits for, and its mode; None if no application statement
    would queue behind its lock request. Dropping a key, column or table also locks the tables a foreign key
    links it to, which the lock does not name (`Lock.linked`)."""
    lock = lock_of(step)
    if not lock.stalls_applications or lock.mode is None:
        return None
    if lock.mode == ACCESS_EXCLUSIVE and lock.linked:
        return linked_tables(conn, lock.tables), lock.mode
    return lock.tables, lock.mode


def wait_for_blockers(conn: psycopg.Connection, step: Step, policy: LockPolicy, hooks: LockHooks) -> float:
    """Poll pg_locks, requesting nothing, until no old transaction holds or awaits a lock conflicting with the
    step's; seconds waited. Never gives up: a step that always finds a blocker keeps waiting (and says so)."""
    scope = wait_scope(conn, step)
    if scope is None:
        return 0.0
    tables, mode = scope
    started = time.monotonic()
    terminated: list[Blocker] = []
    refused: set[int] = set()
    names = [".".join(p for p in t if p) for t in tables]
    seen: set[int] = set()
    while True:
        blockers = find_blockers(conn, tables, mode, policy.blocker_min_age_ms)
        waited = time.monotonic() - started
        if not blockers and not seen:
            return 0.0  # nothing to wait for: no report
        if blockers:
            _end_blockers(conn, blockers, policy, terminated, refused)
        report = LockWait(
            step=step.description,
            lock_mode=mode,
            tables=names,
            waited_s=waited,
            blockers=blockers,
            terminated=terminated,
            starving=waited >= policy.starving_after_s,
        )
        hooks.on_wait(report)
        if not blockers:
            return waited
        if {b.pid for b in blockers} - seen:
            seen |= {b.pid for b in blockers}
            log.warning("%s: waiting outside the lock queue for %s", step.description, report.model_dump_json())
        time.sleep(policy.blocker_poll_s)


def _execute(conn: psycopg.Connection, step: Step, timeout_ms: int, rollback: bool = False) -> None:
    """`rollback`: a trial, its transaction rolled back whatever happens (see StepRunner.trial)."""
    timeout = sql.Literal(f"{timeout_ms}ms")
    if not step.transactional:
        conn.execute(sql.SQL("SET lock_timeout = {}").format(timeout))
        try:
            conn.execute(step.statement)
        finally:
            conn.execute("RESET lock_timeout")
        return
    with conn.transaction(force_rollback=rollback):
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(timeout))
        # a grouped step: each part's guard sees the parts before it, all under one lock acquisition
        for part in step.parts or (step,):
            if part is step or not already_applied(conn, part):
                conn.execute(part.statement)


def _timeout_ms(step: Step, policy: LockPolicy) -> int:
    return policy.lock_timeout_ms if lock_of(step).stalls_applications else policy.concurrent_lock_timeout_ms


@dataclass(frozen=True)
class StepRunner:
    """Runs steps on autocommit connections under one lock policy, telling `hooks` of retries and waits: built
    once per phase by its caller (an activity, with its LockReporter) and handed to the phase."""

    policy: LockPolicy = field(default_factory=LockPolicy)
    hooks: LockHooks = field(default_factory=NoLockHooks)

    def run(self, conn: psycopg.Connection, steps: list[Step]) -> list[StepOutcome]:
        return [self.run_step(conn, step) for step in steps]

    def trial(self, conn: psycopg.Connection, steps: list[Step]) -> None:
        """Run the transactional statements of `steps` in one transaction that is then rolled back: what they
        would fail on, found with nothing changed. Their locks are taken as the steps take them (waiting outside
        the queue first, briefly, all at once); the CONCURRENTLY steps, which no transaction may hold, are left
        out."""
        parts = [part for step in steps if step.transactional for part in (step.parts or (step,))]
        if not parts:
            return
        locks = [lock_of(part) for part in parts]
        tables = tuple(dict.fromkeys(t for lock in locks for t in lock.tables))
        if len(tables) > 1:  # an application may hold one of them while it waits for another we hold
            parts = [short_lock_waits(), *parts]
        mode = strongest([lock.mode for lock in locks if lock.mode is not None])
        trial = Step(
            "tried in one transaction, rolled back: " + "; ".join(p.description for p in parts),
            sql.SQL(";\n").join(p.statement for p in parts),
            lock=Lock(mode, tables, linked=any(lock.linked for lock in locks)),
            parts=tuple(parts),
        )
        self.run_step(conn, trial, rollback=True)

    def run_step(self, conn: psycopg.Connection, step: Step, rollback: bool = False) -> StepOutcome:
        """Run one step; idempotent through `skip_if`. `rollback`: a trial (see `trial`)."""
        policy = self.policy
        assert conn.autocommit, "the DDL executor needs an autocommit connection"
        waited = 0.0
        for attempt in range(policy.max_attempts):
            try:
                if step.index_to_clean is not None:
                    _drop_invalid_index(conn, step.index_to_clean, policy)
                if already_applied(conn, step):
                    return StepOutcome(skipped=True, attempts=attempt, waited_s=waited)
                waited += wait_for_blockers(conn, step, policy, self.hooks)
                _execute(conn, step, _timeout_ms(step, policy), rollback)
                return StepOutcome(skipped=False, attempts=attempt + 1, waited_s=waited)
            except RETRYABLE as exc:
                delay = backoff_delay(policy, attempt)
                log.warning("%s: %s; retry %d in %.2fs", step.description, type(exc).__name__, attempt + 1, delay)
                self.hooks.on_retry(step, attempt + 1)
                time.sleep(delay)
            except psycopg.Error:
                # e.g. a unique index over duplicates: leave no INVALID index behind for the caller to trip on
                if step.index_to_clean is not None and not conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        _drop_invalid_index(conn, step.index_to_clean, policy)
                raise
        if step.index_to_clean is not None:
            with contextlib.suppress(*RETRYABLE):
                _drop_invalid_index(conn, step.index_to_clean, policy)
        raise LockRetriesExhausted(
            f"{step.description}: lock not acquired after {policy.max_attempts} attempts "
            f"of lock_timeout {_timeout_ms(step, policy)} ms"
        )
