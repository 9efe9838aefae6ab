"""The safe DDL executor: short lock_timeout, retry with exponential backoff and jitter.

A statement that waits for an ACCESS EXCLUSIVE lock makes every later statement on the
table queue behind it. Capping the wait at `lock_timeout` caps the application's stall;
we give up the lock request, let the queue drain, and try again.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

from liveshift.errors import LockRetriesExhausted
from liveshift.steps import Step
from liveshift.values import LockPolicy

log = logging.getLogger(__name__)

RETRYABLE = (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure)


@dataclass
class StepOutcome:
    skipped: bool
    attempts: int


def backoff_delay(policy: LockPolicy, attempt: int, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
    """Full jitter: uniform in [0, min(max, initial * 2^attempt)]."""
    return rng.uniform(0, min(policy.backoff_max_s, policy.backoff_initial_s * (2**attempt)))


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
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{policy.lock_timeout_ms}ms")))
        try:
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(index))
        finally:
            conn.execute("RESET lock_timeout")


def run_step(
    conn: psycopg.Connection,
    step: Step,
    policy: LockPolicy | None = None,
    on_lock_retry: Callable[[Step, int], None] | None = None,
) -> StepOutcome:
    """Run one step on an autocommit connection; idempotent through `skip_if`."""
    policy = policy or LockPolicy()
    assert conn.autocommit, "the DDL executor needs an autocommit connection"
    for attempt in range(policy.max_attempts):
        timeout = sql.Literal(f"{policy.lock_timeout_ms}ms")
        try:
            if step.index_to_clean is not None:
                _drop_invalid_index(conn, step.index_to_clean, policy)
            if already_applied(conn, step):
                return StepOutcome(skipped=True, attempts=attempt)
            if step.transactional:
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(timeout))
                    conn.execute(step.statement)
            else:
                conn.execute(sql.SQL("SET lock_timeout = {}").format(timeout))
                try:
                    conn.execute(step.statement)
                finally:
                    conn.execute("RESET lock_timeout")
            return StepOutcome(skipped=False, attempts=attempt + 1)
        except RETRYABLE as exc:
            delay = backoff_delay(policy, attempt)
            log.warning("%s: %s; retry %d in %.2fs", step.description, type(exc).__name__, attempt + 1, delay)
            if on_lock_retry:
                on_lock_retry(step, attempt + 1)
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
        f"of lock_timeout {policy.lock_timeout_ms} ms"
    )


def run_steps(
    conn: psycopg.Connection,
    steps: list[Step],
    policy: LockPolicy | None = None,
    on_lock_retry: Callable[[Step, int], None] | None = None,
) -> list[StepOutcome]:
    return [run_step(conn, step, policy, on_lock_retry) for step in steps]
