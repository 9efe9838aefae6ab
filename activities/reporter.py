"""The bookkeeping of an activity's attempt: a backfill partition's metrics per batch, rows/s and reports;
a lock-taking phase's lock waits and terminated blockers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from liveshift import metrics
from liveshift.activities.payloads import PartitionResult, ProgressReport
from liveshift.backfill.replication import Hold
from liveshift.ddl.steps import Step
from liveshift.values import Blocker, LockDetails, LockWait, Progress


class PartitionReporter:
    """A partition's hooks (backfill.walk.PartitionHooks): fed by the core after each batch (and repeatedly while
    it is paused or steps aside), on the DB thread; read from the event loop for heartbeats (and the progress
    signals older workflows expect), which also asks the walk to stop. `resolve` finds a worker target's DSN."""

    def __init__(self, migration: str, table: str, partition: int, *, resolve: Callable[[str], str]) -> None:
        self.migration, self.table, self.partition = migration, table, partition
        self._resolve = resolve
        self._stop = threading.Event()
        self.latest: Progress | None = None
        self._started = time.monotonic()
        self._rows_at_start: int | None = None
        self._held: Hold | None = None  # the replication probe's last answer

    def on_progress(self, progress: Progress) -> None:
        previous = self.latest
        if previous is None:
            new_batch = progress.rows_in_batch > 0
            self._rows_at_start = progress.rows_done - (progress.rows_in_batch if new_batch else 0)
        else:
            new_batch = progress.batches != previous.batches  # count each batch once
        if new_batch:
            self._count_batch(progress)
        if progress.throttled and (new_batch or previous is None or previous.throttled != progress.throttled):
            metrics.THROTTLE_WAITS.labels(migration=self.migration, reason=self._reason_label(progress.throttled)).inc()
        self.latest = progress

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """From the event loop (cancellation, shutdown): the walk stops at its next batch boundary."""
        self._stop.set()

    def standby_dsn(self, name: str) -> str:
        return self._resolve(name)

    def on_hold(self, hold: Hold | None) -> None:
        """Each answer of the replication probe (before each batch): the held gauge follows it."""
        self._held = hold
        metrics.set_backfill_held(self.migration, self.table, self.partition, hold.kind if hold else None)

    def _reason_label(self, throttled: str) -> str:
        """A replication hold counts by its signal, not its text (that carries the measured lag)."""
        held = self._held
        return held.kind if held is not None and held.reason == throttled else throttled

    def _count_batch(self, progress: Progress) -> None:
        labels = {"migration": self.migration, "table": self.table}
        metrics.ROWS_BACKFILLED.labels(**labels).inc(progress.rows_in_batch)
        metrics.BATCH_DURATION.labels(table=self.table).observe(progress.batch_seconds)
        metrics.BATCH_SIZE.labels(**labels, partition=str(self.partition)).set(progress.batch_size)

    def report(self, error: str | None = None) -> ProgressReport | None:
        """For the heartbeat details (and the PROGRESS signal of older workflows); None before the first batch."""
        p = self.latest
        if p is None:
            return None
        elapsed = max(time.monotonic() - self._started, 1e-3)
        rate = (p.rows_done - self._rows_at_start) / elapsed if self._rows_at_start is not None else 0.0
        return ProgressReport(
            table=p.table,
            partition=p.partition,
            rows_done=p.rows_done,
            done=p.done,
            throttled=p.throttled,
            rows_per_second=rate,
            error=error,
        )

    def finished(self, final: Progress) -> PartitionResult:
        self.latest = final
        first = self._rows_at_start if self._rows_at_start is not None else final.rows_done
        return PartitionResult(progress=final, rows_this_attempt=final.rows_done - first)


class LockReporter:
    """The safe DDL executor's hooks (ddl.executor.LockHooks) during one lock-taking phase, on the DB thread:
    retries, the wait outside the lock queue and ended blockers (terminated, or autovacuum cancelled) to metrics;
    read from the event loop for heartbeats."""

    def __init__(self, migration: str) -> None:
        self.migration = migration
        self._count_retry = metrics.lock_retry_counter(migration)
        self.wait: LockWait | None = None
        self.terminated: list[Blocker] = []  # this phase's, over all its steps
        self._series: list[tuple[str, ...]] = []

    def on_retry(self, step: Step, attempt: int) -> None:
        self._count_retry(step, attempt)

    def on_wait(self, wait: LockWait) -> None:
        self.wait = wait if wait.blockers else None
        metrics.LOCK_WAIT.labels(migration=self.migration).set(wait.waited_s if wait.blockers else 0)
        for labels in self._series:
            metrics.LOCK_BLOCKER.remove(*labels)
        self._series = [(self.migration, str(b.pid), b.state or "", b.mode, b.table) for b in wait.blockers]
        for labels, blocker in zip(self._series, wait.blockers, strict=True):
            metrics.LOCK_BLOCKER.labels(*labels).set(blocker.transaction_open_s)
        known = {(b.pid, b.xact_start) for b in self.terminated}
        new = [b for b in wait.terminated if (b.pid, b.xact_start) not in known]  # each wait reports its own
        for blocker in new:
            counter = metrics.AUTOVACUUM_CANCELLED if blocker.autovacuum else metrics.BLOCKERS_TERMINATED
            counter.labels(migration=self.migration).inc()
        self.terminated += new

    def outcome(self) -> LockDetails:
        """What the phase's activity answers (histories recorded before answer None: hence `LockDetails | None`)."""
        return LockDetails(terminated=self.terminated)

    def details(self) -> list[dict[str, Any]]:
        """The heartbeat's details: [LockDetails] once a step has waited or ended a backend, else none."""
        if self.wait is None and not self.terminated:
            return []
        return [LockDetails(lock_wait=self.wait, terminated=self.terminated).model_dump(mode="json")]
