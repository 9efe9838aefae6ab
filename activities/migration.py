"""Thin Temporal activities around the phase calls (liveshift.phases): resolve the target, run one core call.

The core is synchronous psycopg; each activity runs it on the worker's thread pool and heartbeats
from the event loop meanwhile, so a worker that dies is noticed within the heartbeat timeout even
during a long CREATE INDEX CONCURRENTLY or VALIDATE CONSTRAINT. Activities never decide the order
of phases, nor what a phase does: that is the workflow's job and the core's.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from temporalio import activity

from liveshift import health, metrics, phases
from liveshift.activities.failures import call_core
from liveshift.activities.payloads import (
    PROGRESS,
    BackfillInput,
    HealthInput,
    PartitionInput,
    PartitionResult,
    PhaseInput,
    PrepareInput,
)
from liveshift.activities.reporter import LockReporter, PartitionReporter
from liveshift.ddl.executor import StepRunner
from liveshift.health import HealthResult
from liveshift.values import LockDetails, Prepared, Progress, TablePlan, VerifyReport

log = logging.getLogger(__name__)

T = TypeVar("T")

# how often a running activity tells Temporal it is alive (the workflow sets the heartbeat timeout)
HEARTBEAT_EVERY_S = 2.0


class MigrationActivities:
    """Holds what activities need from the worker: target resolution and a thread pool for the DB."""

    def __init__(self, resolve_dsn: Callable[[str], str], executor: Executor) -> None:
        self._resolve = resolve_dsn
        self._executor = executor

    def _call(self, target: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[], T]:
        """`fn(conn, *args, **kwargs)` on a connection of its own to `target`, for the thread pool."""
        dsn = self._resolve(target)

        return functools.partial(call_core, dsn, lambda conn: fn(conn, *args, **kwargs))

    async def _run(self, target: str, fn: Callable[..., T], *args: Any, details: Callable[[], list[Any]] = list) -> T:
        """Run the core call on the pool, heartbeating (with `details()`) until it returns (a thread cannot be
        interrupted: we wait)."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._call(target, fn, *args))
        while True:
            done, _ = await asyncio.wait({future}, timeout=HEARTBEAT_EVERY_S)
            if done:
                return future.result()
            activity.heartbeat(*details())

    async def _lock_phase(self, request: PhaseInput, fn: Callable[..., None], **kwargs: Any) -> LockDetails:
        """`fn(conn, migration, runner=..., **kwargs)`: a phase of lock-taking steps, run under the request's lock
        policy; the reporter counts retries and puts a wait for a blocking transaction into the heartbeat details.
        The answer names the backends it ended, for the workflow's status."""
        reporter = LockReporter(request.migration)
        call = functools.partial(fn, runner=StepRunner(request.lock, reporter), **kwargs)
        await self._run(request.target, call, request.migration, details=reporter.details)
        return reporter.outcome()

    @activity.defn
    async def prepare(self, request: PrepareInput) -> Prepared:
        return await self._run(request.target, phases.prepare_summary, request.migration, request.file, request.lock)

    @activity.defn
    async def expand(self, request: PhaseInput) -> LockDetails | None:
        return await self._lock_phase(request, phases.expand)

    @activity.defn
    async def plan_backfill(self, request: BackfillInput) -> list[TablePlan]:
        return await self._run(request.target, phases.plan_backfill, request.migration, request.parallelism)

    @activity.defn
    async def backfill_partition(self, request: PartitionInput) -> PartitionResult:
        """Walk one key-range partition from its checkpoint to its end, however long that takes.

        The checkpoint table is authoritative: a retried attempt resumes from it. The heartbeat details carry
        the partition's latest ProgressReport (rows, rows/s, throttling), which `liveshift status` and the
        Temporal UI read from the pending activity: no history event, however long the backfill runs. Only for
        a workflow started before that (`signal_progress`) is it also signalled every `progress_interval_s`.
        """
        _log_resumption(request)
        # standbys the replication throttle polls are worker targets too
        reporter = PartitionReporter(request.migration, request.table, request.partition, resolve=self._resolve)
        call = self._call(
            request.target,
            phases.backfill_partition,
            request.migration,
            table=request.table,
            partition=request.partition,
            throttle=request.throttle,
            hooks=reporter,
        )
        result = await self._walk(call, reporter, request.progress_interval_s, request.signal_progress)
        return result.model_copy(update={"earlier_error": _earlier_error()})

    async def _walk(
        self,
        call: Callable[[], Progress],
        reporter: PartitionReporter,
        interval_s: float,
        signal_progress: bool,
    ) -> PartitionResult:
        """Heartbeat with the latest progress (and signal it every `interval_s` where the workflow expects that);
        on cancellation stop at a batch."""
        signal = _progress_signal(reporter) if signal_progress else _no_signal
        future = asyncio.get_running_loop().run_in_executor(self._executor, call)
        last_signal = time.monotonic()
        try:
            while not (await asyncio.wait({future}, timeout=min(1.0, interval_s)))[0]:
                report = reporter.report()
                activity.heartbeat(*([report] if report else []))
                if time.monotonic() - last_signal >= interval_s:
                    last_signal = time.monotonic()
                    await signal(None)
        except asyncio.CancelledError:
            # cancelled (rollback) or the worker shuts down: stop at the next batch boundary, then go
            reporter.stop()
            await asyncio.wait({future})
            raise
        try:
            result = reporter.finished(future.result())
        except Exception as exc:
            # the next attempt finds this in its heartbeat details and the partition's result carries it
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            report = reporter.report(error)
            activity.heartbeat(*([report] if report else []))
            await signal(error)
            raise
        await signal(None)
        return result

    @activity.defn
    async def validate_constraints(self, request: PhaseInput) -> LockDetails | None:
        return await self._lock_phase(request, phases.validate_constraints)

    @activity.defn
    async def verify(self, request: PhaseInput) -> VerifyReport:
        report = await self._run(request.target, phases.verify, request.migration)
        metrics.count_verified(request.migration, report)
        return report

    @activity.defn
    async def cutover(self, request: PhaseInput) -> None:
        await self._run(request.target, phases.cutover, request.migration, request.percent)
        metrics.set_green_share(request.migration, request.percent)

    @activity.defn
    async def shift(self, request: PhaseInput) -> None:
        """Green's share of clients, up or down, between cutover and contract: version_for answers it at once."""
        await self._run(request.target, phases.shift, request.migration, request.percent)
        metrics.set_green_share(request.migration, request.percent)

    @activity.defn
    async def check_health(self, request: HealthInput) -> HealthResult:
        """Evaluate the health check once: PromQL from the worker, or SQL on the target (read-only)."""
        if request.check.kind == "sql":
            result = await self._run(request.target, health.check_sql, request.check)
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, health.check_prometheus, request.check)
        metrics.count_health_check(request.migration, result.healthy)
        return result

    @activity.defn
    async def try_contract(self, request: PhaseInput) -> LockDetails | None:
        """Contract's statements in a transaction rolled back: ContractRefused where contract would fail."""
        return await self._lock_phase(request, phases.try_contract)

    @activity.defn
    async def contract(self, request: PhaseInput) -> LockDetails | None:
        outcome = await self._lock_phase(request, phases.contract)
        metrics.set_green_share(request.migration, 100)
        return outcome

    @activity.defn
    async def rollback(self, request: PhaseInput) -> LockDetails | None:
        outcome = await self._lock_phase(request, phases.rollback, reason=request.reason)
        metrics.set_green_share(request.migration, 0)
        return outcome

    @activity.defn
    async def set_paused(self, request: PhaseInput) -> None:
        """The flag every backfill partition polls before each batch, wherever it runs."""
        await self._run(request.target, phases.set_paused, request.migration, request.paused)

    def all(self) -> list[Callable[..., object]]:
        return [
            self.prepare,
            self.expand,
            self.plan_backfill,
            self.backfill_partition,
            self.validate_constraints,
            self.verify,
            self.cutover,
            self.shift,
            self.check_health,
            self.try_contract,
            self.contract,
            self.rollback,
            self.set_paused,
        ]


def _earlier_error() -> str | None:
    """The error an earlier attempt of this partition heartbeat as it failed, if any."""
    details = activity.info().heartbeat_details
    if not details or not isinstance(details[0], dict):
        return None
    error = details[0].get("error")
    return str(error) if error else None


def _log_resumption(request: PartitionInput) -> None:
    info = activity.info()
    if info.heartbeat_details:
        log.info(
            "backfill %s/%s attempt %d resumes; last heartbeat %s",
            request.table,
            request.partition,
            info.attempt,
            info.heartbeat_details[0],
        )


async def _no_signal(error: str | None) -> None:
    """The workflow reads progress from the heartbeat details and the partition's result: nothing to send."""


def _progress_signal(reporter: PartitionReporter) -> Callable[[str | None], Awaitable[None]]:
    """Send the reporter's latest progress to the workflow (best effort: the checkpoint is what counts)."""
    info = activity.info()
    handle = activity.client().get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)

    async def signal(error: str | None) -> None:
        progress = reporter.report(error)
        if progress is None:
            return
        try:
            await handle.signal(PROGRESS, progress)
        except Exception as exc:
            log.warning("progress signal for %s/%s failed: %s", reporter.table, reporter.partition, exc)

    return signal
