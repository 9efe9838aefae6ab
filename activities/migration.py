"""Thin Temporal activities around liveshift's engine: resolve the target, run one idempotent call.

The core is synchronous psycopg; each activity runs it on the worker's thread pool and heartbeats
from the event loop meanwhile, so a worker that dies is noticed within the heartbeat timeout even
during a long CREATE INDEX CONCURRENTLY or VALIDATE CONSTRAINT. Activities never decide the order
of phases: that is the workflow's job.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

from temporalio import activity

from liveshift import backfill, engine, metrics
from liveshift.blockers import LockWait
from liveshift.errors import MigrationStateError
from liveshift.steps import Step
from liveshift.verify import VerifyReport
from workflows.models import (
    PROGRESS,
    BackfillInput,
    PartitionInput,
    PartitionResult,
    PhaseInput,
    Prepared,
    PrepareInput,
    ProgressReport,
    TablePlan,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# how often a running activity tells Temporal it is alive (the workflow sets the heartbeat timeout)
HEARTBEAT_EVERY_S = 2.0


class LockHooks:
    """The executor's lock callbacks of one phase: metrics, and the wait as the heartbeat's details."""

    def __init__(self, migration: str) -> None:
        self.migration = migration
        self.wait: LockWait | None = None
        self._terminated = 0
        self._series: list[tuple[str, ...]] = []

    def on_retry(self, step: Step, attempt: int) -> None:
        metrics.LOCK_RETRIES.labels(migration=self.migration).inc()

    def on_wait(self, wait: LockWait) -> None:
        self.wait = wait if wait.blockers else None
        metrics.LOCK_WAIT.labels(migration=self.migration).set(wait.waited_s if wait.blockers else 0)
        for labels in self._series:
            metrics.LOCK_BLOCKER.remove(*labels)
        self._series = [(self.migration, str(b.pid), b.state or "", b.mode, b.table) for b in wait.blockers]
        for labels, blocker in zip(self._series, wait.blockers, strict=True):
            metrics.LOCK_BLOCKER.labels(*labels).set(blocker.transaction_open_s)
        metrics.BLOCKERS_TERMINATED.labels(migration=self.migration).inc(len(wait.terminated) - self._terminated)
        self._terminated = len(wait.terminated)

    def details(self) -> dict[str, object] | None:
        """Heartbeat details: {"lock_wait": ...} while a step waits for a blocker, else None."""
        return {"lock_wait": self.wait.model_dump(mode="json")} if self.wait else None


class MigrationActivities:
    """Holds what activities need from the worker: target resolution and a thread pool for the DB."""

    def __init__(self, resolve_dsn: Callable[[str], str], executor: Executor) -> None:
        self._resolve = resolve_dsn
        self._executor = executor

    async def _in_thread(self, fn: Callable[[], T], details: Callable[[], object] | None = None) -> T:
        """Run `fn` on the pool, heartbeating until it returns (a thread cannot be interrupted: we wait)."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        while True:
            done, _ = await asyncio.wait({future}, timeout=HEARTBEAT_EVERY_S)
            if done:
                return future.result()
            activity.heartbeat(*([details()] if details else []))

    def _phase(self, request: PhaseInput, call: Callable[..., T], *args: object, **kwargs: object) -> Callable[[], T]:
        dsn = self._resolve(request.target)

        def run() -> T:
            with engine.connect(dsn) as conn:
                return call(conn, request.migration, *args, **kwargs)

        return run

    @activity.defn
    async def prepare(self, request: PrepareInput) -> Prepared:
        dsn = self._resolve(request.target)

        def run() -> Prepared:
            with engine.connect(dsn) as conn:
                plan = engine.prepare(conn, request.migration, request.file)
            # the tables named plus those the plan found in the catalog (e.g. every table referencing a key)
            return Prepared(
                tables=sorted(set(request.migration.tables()) | set(plan.marker_tables())),
                backfill_tables=[t.table for t in plan.backfill_targets()],
                blue_version=plan.blue,
                green_version=plan.green,
            )

        return await self._in_thread(run)

    @activity.defn
    async def expand(self, request: PhaseInput) -> None:
        metrics.set_phase(request.migration, "expand")
        hooks = LockHooks(request.migration)
        call = self._phase(request, engine.expand, request.lock, hooks.on_retry, on_wait=hooks.on_wait)
        await self._in_thread(call, hooks.details)

    @activity.defn
    async def plan_backfill(self, request: BackfillInput) -> list[TablePlan]:
        """Split each table's key range and record the partitions once (a retry keeps their progress)."""
        metrics.set_phase(request.migration, "backfill")
        dsn = self._resolve(request.target)

        def run() -> list[TablePlan]:
            with engine.connect(dsn) as conn:
                plan = engine.plan_of(engine.load_record(conn, request.migration))
                tables = []
                for target in plan.backfill_targets():
                    partitions = backfill.load_partitions(conn, request.migration, target.table)
                    if not partitions:
                        partitions = backfill.plan_partitions(conn, plan.schema, target, request.parallelism)
                        backfill.init_checkpoints(conn, request.migration, target, partitions)
                    total = backfill.estimate_rows(conn, plan.schema, target.table)
                    tables.append(TablePlan(table=target.table, partitions=len(partitions), rows_total=total))
                return tables

        return await self._in_thread(run)

    @activity.defn
    async def backfill_partition(self, request: PartitionInput) -> PartitionResult:
        """Walk one key-range partition from its checkpoint to its end, however long that takes.

        The checkpoint table is authoritative: a retried attempt resumes from it (the heartbeat carries
        the same checkpoint, for operators and for the log). Progress reaches the workflow by signal, at
        most every `progress_interval_s`, so history grows with time, not with rows.
        """
        info = activity.info()
        if info.heartbeat_details:
            log.info(
                "backfill %s/%s attempt %d resumes; last heartbeat %s",
                request.table,
                request.partition,
                info.attempt,
                info.heartbeat_details[0],
            )
        dsn = self._resolve(request.target)
        stop = threading.Event()
        latest: list[backfill.Progress] = []
        started = time.monotonic()
        rows_at_start: list[int] = []
        labels = {"migration": request.migration, "table": request.table}

        def on_progress(progress: backfill.Progress) -> None:
            # called after each batch, and repeatedly while paused or stepping aside: count batches once
            previous = latest[0] if latest else None
            if previous is None:
                new_batch = progress.rows_in_batch > 0
                rows_at_start.append(progress.rows_done - (progress.rows_in_batch if new_batch else 0))
            else:
                new_batch = progress.batches != previous.batches
            if new_batch:
                metrics.ROWS_BACKFILLED.labels(**labels).inc(progress.rows_in_batch)
                metrics.BATCH_DURATION.labels(table=request.table).observe(progress.batch_seconds)
                metrics.BATCH_SIZE.labels(**labels, partition=str(request.partition)).set(progress.batch_size)
            if progress.throttled and (new_batch or previous is None or previous.throttled != progress.throttled):
                metrics.THROTTLE_WAITS.labels(migration=request.migration, reason=progress.throttled).inc()
            latest[:] = [progress]

        def run() -> backfill.Progress:
            with engine.connect(dsn) as conn:
                plan = engine.plan_of(engine.load_record(conn, request.migration))
                target = next((t for t in plan.backfill_targets() if t.table == request.table), None)
                if target is None:
                    raise MigrationStateError(f"table {request.table!r} needs no backfill in {request.migration!r}")
                return backfill.run_partition(
                    conn,
                    request.migration,
                    plan.schema,
                    target,
                    request.partition,
                    request.throttle,
                    on_progress=on_progress,
                    should_stop=stop.is_set,
                )

        def report(error: str | None = None) -> ProgressReport | None:
            if not latest:
                return None
            p = latest[0]
            elapsed = max(time.monotonic() - started, 1e-3)
            rate = (p.rows_done - rows_at_start[0]) / elapsed if rows_at_start else 0.0
            return ProgressReport(
                table=p.table,
                partition=p.partition,
                rows_done=p.rows_done,
                done=p.done,
                throttled=p.throttled,
                rows_per_second=rate,
                error=error,
            )

        handle = activity.client().get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)

        async def signal(error: str | None = None) -> None:
            progress = report(error)
            if progress is None:
                return
            try:
                await handle.signal(PROGRESS, progress)
            except Exception as exc:  # progress is best effort; the checkpoint is what counts
                log.warning("progress signal for %s/%s failed: %s", request.table, request.partition, exc)

        future = asyncio.get_running_loop().run_in_executor(self._executor, run)
        last_signal = time.monotonic()
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=min(1.0, request.progress_interval_s))
                if latest:
                    activity.heartbeat(latest[0])
                if done:
                    break
                if time.monotonic() - last_signal >= request.progress_interval_s:
                    last_signal = time.monotonic()
                    await signal()
        except asyncio.CancelledError:
            # cancelled (rollback) or the worker shuts down: stop at the next batch boundary, then go
            stop.set()
            await asyncio.wait({future})
            raise
        try:
            final = future.result()
        except Exception as exc:
            await signal(error=f"{type(exc).__name__}: {exc}".splitlines()[0])
            raise
        latest[:] = [final]
        await signal()
        first = rows_at_start[0] if rows_at_start else final.rows_done
        return PartitionResult(progress=final, rows_this_attempt=final.rows_done - first)

    @activity.defn
    async def validate_constraints(self, request: PhaseInput) -> None:
        hooks = LockHooks(request.migration)
        call = self._phase(request, engine.validate_constraints, request.lock, hooks.on_retry, on_wait=hooks.on_wait)
        await self._in_thread(call, hooks.details)

    @activity.defn
    async def verify(self, request: PhaseInput) -> VerifyReport:
        metrics.set_phase(request.migration, "verify")
        report = await self._in_thread(self._phase(request, engine.verify))
        for table in report.tables:
            labels = {"migration": request.migration, "table": table.table}
            metrics.VERIFY_ROWS.labels(**labels).inc(table.rows_checked)
            metrics.VERIFY_MISMATCHES.labels(**labels).inc(table.mismatches)
        if report.ok:
            metrics.set_phase(request.migration, "awaiting_cutover")
        return report

    @activity.defn
    async def cutover(self, request: PhaseInput) -> None:
        metrics.set_phase(request.migration, "cutover")
        await self._in_thread(self._phase(request, engine.cutover, request.percent))
        metrics.set_phase(request.migration, "awaiting_contract")

    @activity.defn
    async def contract(self, request: PhaseInput) -> None:
        metrics.set_phase(request.migration, "contract")
        hooks = LockHooks(request.migration)
        call = self._phase(request, engine.contract, request.lock, hooks.on_retry, on_wait=hooks.on_wait)
        await self._in_thread(call, hooks.details)
        metrics.set_phase(request.migration, "complete")

    @activity.defn
    async def rollback(self, request: PhaseInput) -> None:
        metrics.set_phase(request.migration, "rolling_back")
        hooks = LockHooks(request.migration)
        call = self._phase(
            request, engine.rollback, request.lock, hooks.on_retry, request.reason, on_wait=hooks.on_wait
        )
        await self._in_thread(call, hooks.details)
        metrics.set_phase(request.migration, "rolled_back")

    @activity.defn
    async def set_paused(self, request: PhaseInput) -> None:
        """The flag every backfill partition polls before each batch, wherever it runs."""
        await self._in_thread(self._phase(request, engine.set_paused, request.paused))

    def all(self) -> list[Callable[..., object]]:
        return [
            self.prepare,
            self.expand,
            self.plan_backfill,
            self.backfill_partition,
            self.validate_constraints,
            self.verify,
            self.cutover,
            self.contract,
            self.rollback,
            self.set_paused,
        ]
