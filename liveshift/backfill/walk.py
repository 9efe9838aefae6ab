"""Checkpointed keyset backfill: each batch and its checkpoint commit in one transaction.

A table without a key is walked by physical block ranges instead (blocks.py); both are batch
sources (batches.py) of the same loop, `run_partition`.

The batch updates rows still marked pending, one of two ways (chosen by the plan, see
`plan.direct_backfill`):
- direct: the UPDATE computes every new column itself, from the table's `up` expressions over the
  row as stored, and marks the row; the session's `liveshift.version` makes the dual-write
  trigger's WHEN clause skip it, so there is no PL/pgSQL call per row;
- touch: the UPDATE only marks the row and the trigger computes the new columns, for tables where an
  `up` reads what an earlier one assigns (one UPDATE's SET sees only the row before it).
Either way the values are the `up` expressions' (verify checks every backfilled row against them).
A crash loses at most the uncommitted batch; a restart resumes after the last committed key. Rows
a green client wrote meanwhile are skipped: green is their source of truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import errors, sql

from liveshift.backfill.batches import BatchOutcome, BatchRequest, BatchSource
from liveshift.backfill.keyset import walk_spread
from liveshift.backfill.partitions import batch_source, left_the_table
from liveshift.backfill.reclaim import Reclaimer
from liveshift.backfill.replication import Hold
from liveshift.ddl.steps import qualified
from liveshift.errors import MigrationStateError
from liveshift.plan import BackfillTarget
from liveshift.store import checkpoints
from liveshift.store.record import is_paused
from liveshift.values import Progress, Throttle
from liveshift.versions.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH

log = logging.getLogger(__name__)


def _lock_waiters(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = to_regclass(%s) AND NOT granted AND pid <> pg_backend_pid()",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    return int(row[0]) if row else 0


def _use_path(conn: psycopg.Connection, schema: str, table: str, direct: bool) -> None:
    """Not green either way: a touch runs the trigger's `up` path, exactly as a blue write does; a direct
    UPDATE skips the trigger (its WHEN clause) and computes the same `up` expressions itself."""
    conn.execute(
        sql.SQL("SET liveshift.version = {}").format(sql.Literal(BACKFILL_DIRECT if direct else BACKFILL_TOUCH))
    )
    _fire_no_triggers(conn, schema, table, direct)


def _fire_no_triggers(conn: psycopg.Connection, schema: str, table: str, direct: bool) -> None:
    """A direct backfill fires no trigger at all where the role may set session_replication_role (a superuser, or
    `GRANT SET ON PARAMETER session_replication_role`, PostgreSQL 15+): under `replica` no ordinary trigger fires,
    so the user's own triggers (an `updated_at`, an audit log) do not see the backfill as an application write,
    and the dual-write trigger's WHEN is not evaluated for every row. Elsewhere its WHEN skips it.

    Either way PostgreSQL locks every row an UPDATE reaches on a table with a BEFORE UPDATE row trigger before it
    looks at the trigger, fired or not: one more WAL record a row (390 bytes a row against 334 without the trigger,
    `bench.statement_costs`), the cost dual writes by trigger put on the backfill. Nothing is lost under `replica`:
    the batch sets every new column itself, and a foreign key the new columns get is validated after the backfill
    over every row. A table with a trigger or rule enabled for replicas only (ENABLE REPLICA) keeps the default,
    which would not fire it.
    """
    if not direct or _has_replica_only_rules(conn, schema, table):
        conn.execute("SET session_replication_role = DEFAULT")
        return
    try:
        conn.execute("SET session_replication_role = replica")
    except errors.InsufficientPrivilege:
        log.info("backfill %s: not allowed to set session_replication_role; the trigger's WHEN skips it", table)


def _has_replica_only_rules(conn: psycopg.Connection, schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = to_regclass(%(t)s) AND tgenabled = 'R')"
        " OR EXISTS (SELECT FROM pg_rewrite WHERE ev_class = to_regclass(%(t)s) AND ev_enabled = 'R')",
        {"t": qualified(schema, table).as_string(None)},
    ).fetchone()
    return bool(row and row[0])


class PartitionHooks(Protocol):
    """What one partition's walk tells its caller and asks of it (the activity's PartitionReporter), on the DB
    thread."""

    def on_progress(self, progress: Progress) -> None:
        """After each batch, and repeatedly while paused, held or stepping aside."""

    def should_stop(self) -> bool:
        """Asked before each batch: stop there (the activity is cancelled, or its worker shuts down)."""

    def on_hold(self, hold: Hold | None) -> None:
        """Each answer of the replication probe (before each batch)."""

    def standby_dsn(self, name: str) -> str:
        """The connection string of the standby the replication limits name (a worker target)."""


class NoPartitionHooks:
    """Nobody listens, nothing stops the walk, and no standby can be resolved (the CLI, tests)."""

    def on_progress(self, progress: Progress) -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def on_hold(self, hold: Hold | None) -> None:
        pass

    def standby_dsn(self, name: str) -> str:
        raise MigrationStateError(f"standby {name!r} is a worker target, and this caller resolves no targets")


NO_PARTITION_HOOKS = NoPartitionHooks()


def run_partition(
    conn: psycopg.Connection,
    *,
    migration: str,
    schema: str,
    target: BackfillTarget,
    partition: int,
    throttle: Throttle | None = None,
    hooks: PartitionHooks = NO_PARTITION_HOOKS,
    hold_reason: Callable[[], str | None] | None = None,
) -> Progress:
    """Walk one key-range partition from its checkpoint to its end (or until `hooks.should_stop()`); no batch
    starts while `hold_reason()` names a reason (see `replication.hold_reason_hook`)."""
    assert conn.autocommit, "the backfill manages its own transactions"
    if left_the_table(conn, schema, target):
        return _finish_departed(conn, migration, target, partition)
    walk = _Walk.resume(conn, migration, schema, target, partition, throttle or Throttle())
    walk.on_progress = hooks.on_progress
    walk.hold_reason = hold_reason or (lambda: None)
    try:
        return _walk(walk, hooks.should_stop)
    finally:
        walk.reclaimer.finish()  # no VACUUM of the table outlives its walk


def _walk(walk: _Walk, stop: Callable[[], bool]) -> Progress:
    """Batches until the partition is done or `stop()`, each after any pause, hold or waiting application."""
    while not walk.progress.done:
        if stop():
            break
        paused = walk.hold_while_paused(stop)
        if paused == _STOPPED:
            return walk.progress
        held = walk.hold_while_held(stop)
        if held == _STOPPED:
            return walk.progress
        throttled = walk.step_aside_for_lock_waiters() or held or paused
        batch = walk.try_batch()
        if batch is not None:
            walk.advance(batch, throttled)
    return walk.progress


_STOPPED = "stopped"  # asked to stop while paused or held


def _spread(conn: psycopg.Connection, migration: str, target: BackfillTarget, throttle: Throttle) -> int:
    """The throttle's spread, widened where other partitions walk the same table at the same time."""
    return walk_spread(throttle.spread, len(checkpoints.load_partitions(conn, migration, target.table)))


def _finish_departed(conn: psycopg.Connection, migration: str, target: BackfillTarget, partition: int) -> Progress:
    """A leaf partition detached or dropped since prepare: done, as it is no longer part of the change."""
    log.warning("backfill %s/%s: no longer a partition of %s; done", target.table, partition, target.parent)
    with conn.transaction():
        last_key, _, rows_done, batches, _ = checkpoints.read(conn, migration, target.table, partition)
        checkpoints.advance(conn, migration, target.table, partition, last_key, 0, True)
    return Progress(
        table=target.table, partition=partition, rows_done=rows_done, batches=batches + 1, last_key=last_key, done=True
    )


@dataclass
class _Committed:
    outcome: BatchOutcome
    seconds: float


@dataclass
class _Walk:
    """One partition's walk in progress: where it is, how big its next batch is, which path it takes."""

    conn: psycopg.Connection
    migration: str
    schema: str
    target: BackfillTarget
    throttle: Throttle
    upper: list[Any] | None
    last_key: list[Any] | None
    progress: Progress
    batch_size: int
    direct: bool
    source: BatchSource
    reclaimer: Reclaimer
    cursor: Any = None  # the source's position past the last committed batch
    started: float = field(default_factory=time.monotonic)
    rows_since_start: int = 0
    on_progress: Callable[[Progress], None] = lambda progress: None
    hold_reason: Callable[[], str | None] = lambda: None

    @classmethod
    def resume(
        cls,
        conn: psycopg.Connection,
        migration: str,
        schema: str,
        target: BackfillTarget,
        partition: int,
        throttle: Throttle,
    ) -> _Walk:
        """From the partition's checkpoint, with the session set up for the backfill."""
        _use_path(conn, schema, target.table, target.direct)
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{throttle.lock_timeout_ms}ms")))
        last_key, upper, rows_done, batches, done = checkpoints.read(conn, migration, target.table, partition)
        progress = Progress(
            table=target.table, partition=partition, rows_done=rows_done, batches=batches, last_key=last_key, done=done
        )
        return cls(
            conn=conn,
            migration=migration,
            schema=schema,
            target=target,
            throttle=throttle,
            upper=upper,
            last_key=last_key,
            progress=progress,
            batch_size=throttle.bounded(throttle.initial_batch),
            direct=target.direct,
            source=batch_source(conn, schema, target, _spread(conn, migration, target, throttle)),
            reclaimer=Reclaimer.for_walk(conn, schema, target.table, throttle),
        )

    def hold_while_paused(self, stop: Callable[[], bool]) -> str | None:
        """Wait while the migration is paused (reporting so); `_STOPPED` when asked to stop meanwhile."""
        throttled = None
        while is_paused(self.conn, self.migration):
            throttled = "paused"
            self.on_progress(self.progress.model_copy(update={"throttled": "paused"}))
            if stop():
                return _STOPPED
            time.sleep(self.throttle.pause_poll_s)
        return throttled

    def hold_while_held(self, stop: Callable[[], bool]) -> str | None:
        """Wait while `hold_reason` names a reason (replica lag, retained WAL, application health), reporting
        it; the last reason held for, or `_STOPPED` when asked to stop meanwhile."""
        held = None
        while (reason := self.hold_reason()) is not None:
            held = reason
            self.on_progress(self.progress.model_copy(update={"throttled": reason}))
            if stop():
                return _STOPPED
            time.sleep(self.throttle.pause_poll_s)
        return held

    def step_aside_for_lock_waiters(self) -> str | None:
        if not _lock_waiters(self.conn, self.schema, self.target.table):
            return None
        time.sleep(self.throttle.lock_wait_backoff_s)
        return "others wait on locks of the table"

    def try_batch(self) -> _Committed | None:
        """One batch with its checkpoint; None when it must be tried again (another path, a smaller batch)."""
        t0 = time.monotonic()
        try:
            with self.conn.transaction():
                outcome = self._batch()
        except (errors.ProgrammingError, errors.NotSupportedError) as exc:
            if not self.direct:
                raise
            # the direct UPDATE cannot be formed where the trigger's PL/pgSQL can, e.g. an `up` whose type
            # reaches the column only through the I/O conversion a PL/pgSQL assignment falls back to (a SET
            # allows assignment casts only), or an aggregate over the row's values: the trigger computes them
            # (the reference path: what it refuses too is raised from there)
            log.warning("backfill %s: direct UPDATE refused (%s); through the trigger", self.target.table, exc)
            self.direct = False
            _use_path(self.conn, self.schema, self.target.table, self.direct)
            return None
        except (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure) as exc:
            self._back_off(type(exc).__name__)
            return None
        return _Committed(outcome, time.monotonic() - t0)

    def _batch(self) -> BatchOutcome:
        """Inside the batch's transaction: backfill the next rows, move the checkpoint past them.

        From the source's UPDATE to the commit, an application write to one of its rows waits for this
        transaction: what follows the UPDATE is sent in one round trip (a pipeline), then the commit.
        """
        conn = self.conn
        request = BatchRequest(self.last_key, self.upper, self.batch_size, self.direct, self.cursor)
        outcome = self.source.run(conn, request)
        with conn.pipeline():
            if not (outcome.finished or self.throttle.flush_each_batch or any(u.volatile for u in self.target.ups)):
                # no wait for the WAL flush at commit: a server crash may lose the last batches with their
                # checkpoint (never one without the other), which the next run redoes with the same values; the
                # partition's final commit waits, and with it everything before, so a partition reported done
                # stays done. Not where an `up` is volatile: a client may have read the value a lost batch set,
                # and the redo would set another; nor with `flush_each_batch`, which keeps the backfill's WAL
                # out of the application's commits
                conn.execute("SET LOCAL synchronous_commit = off")
            self._checkpoint(outcome)
        return outcome

    def _checkpoint(self, outcome: BatchOutcome) -> None:
        """The partition's checkpoint past the batch, in the batch's transaction (only this walk writes it)."""
        last_key = outcome.last if outcome.last is not None else self.last_key
        settled = outcome.seen if outcome.settled is None else outcome.settled
        checkpoints.advance(
            self.conn, self.migration, self.target.table, self.progress.partition, last_key, settled, outcome.finished
        )

    def _back_off(self, error: str) -> None:
        """Row locks held by others: halve the batch, report, wait a little."""
        self.batch_size = max(self.throttle.min_batch, self.batch_size // 2)
        log.info(
            "backfill %s/%s: %s, batch size now %d", self.target.table, self.progress.partition, error, self.batch_size
        )
        self.progress = self.progress.model_copy(update={"throttled": f"row locks held by others ({error})"})
        self.on_progress(self.progress)
        time.sleep(self.throttle.lock_wait_backoff_s)

    def advance(self, batch: _Committed, throttled: str | None) -> None:
        """Past a committed batch: new progress, the next batch's size, the rows/s cap; then report."""
        outcome = batch.outcome
        if outcome.last is not None:
            self.last_key = outcome.last
        self.cursor = outcome.cursor
        self.rows_since_start += outcome.seen
        self.progress = Progress(
            table=self.target.table,
            partition=self.progress.partition,
            rows_done=self.progress.rows_done + outcome.seen,
            batches=self.progress.batches + 1,
            last_key=self.last_key,
            done=outcome.finished,
            batch_size=self.batch_size,
            batch_seconds=batch.seconds,
            rows_in_batch=outcome.seen,
            throttled=throttled,
        )
        # between batches, holding no row lock: the space of the versions done so far, for the next batches
        if not outcome.finished:
            self.reclaimer.after_batch(outcome.seen)
        # adapt: aim at the target batch time, change by at most 2x per batch, from the size the batch ran at (a
        # window's turns keep the size the window was read for, whatever was asked meanwhile)
        ratio = (self.throttle.target_batch_ms / 1000) / max(batch.seconds, 1e-3)
        ran_at = outcome.size or self.batch_size
        self.batch_size = self.throttle.bounded(ran_at * min(2.0, max(0.5, ratio)))
        if self.throttle.max_rows_per_second:
            ahead = self.rows_since_start / self.throttle.max_rows_per_second - (time.monotonic() - self.started)
            if ahead > 0:
                self.progress = self.progress.model_copy(update={"throttled": "rows/s cap"})
                time.sleep(ahead)
        self.on_progress(self.progress)
