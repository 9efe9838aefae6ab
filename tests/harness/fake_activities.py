"""The workflow against fake activities: registered under the real activities' names, they fake the database
side (no PostgreSQL, seconds per test) and let a test hold or fail any call; and the small waits on a
workflow's updates, signals and status that those tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from liveshift.activities.payloads import (
    BackfillInput,
    PartitionInput,
    PartitionResult,
    PhaseInput,
    PrepareInput,
    ProgressReport,
)
from liveshift.values import Prepared, Progress, TablePlan, TableReport, VerifyReport
from liveshift.workflows.client import start_migration
from liveshift.workflows.migration import MigrationWorkflow
from liveshift.workflows.models import STATUS, MigrationInput, MigrationOptions, MigrationStatus
from liveshift.workflows.sandbox import workflow_runner
from tests.harness.apps import ADD_COLUMN
from tests.harness.db import migration

PARTITIONS = 2
LIVE_ROWS = 123  # what a held partition reports in its heartbeat details


class FakeDatabase:
    """The activities' database side, faked: records every call in order; a test may hold a call until it
    releases it (`hold`), make it fail for good (`fail`) or for a while (`transient`); backfill partitions run
    until released and honour the pause flag and cancellation, as the real ones do."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.reached: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.released: dict[str, asyncio.Event] = {}
        self.failures: dict[str, ApplicationError] = {}
        self.transient: dict[str, str] = {}  # name -> message: the call fails, retryably, until removed
        self.paused = False
        self.pause_flags: list[bool] = []
        self.rollback_reasons: list[str | None] = []
        self.partitions_cancelled = 0
        self.mismatches = 0
        self.held_partitions: set[int] = set()  # these run (heartbeating LIVE_ROWS done) until removed
        self.shares: list[int] = []  # each share `shift` applied (a rollback after cutover sends everyone back)

    def hold(self, name: str) -> asyncio.Event:
        self.released[name] = asyncio.Event()
        return self.released[name]

    def fail(self, name: str, error_type: str, message: str) -> None:
        self.failures[name] = ApplicationError(message, type=error_type, non_retryable=True)

    async def _call(self, name: str) -> None:
        self.calls.append(name)
        self.reached[name].set()
        if name in self.failures:
            raise self.failures[name]
        if name in self.transient:
            raise ApplicationError(self.transient[name], type="OperationalError")
        release = self.released.get(name)
        while release is not None and not release.is_set():
            activity.heartbeat()  # a cancellation reaches the activity with the heartbeat's answer
            await asyncio.sleep(0.05)

    @activity.defn(name="prepare")
    async def prepare(self, request: PrepareInput) -> Prepared:
        await self._call("prepare")
        return Prepared(tables=["users"], backfill_tables=["users"], blue_version="public_base", green_version="g")

    @activity.defn(name="expand")
    async def expand(self, request: PhaseInput) -> None:
        await self._call("expand")

    @activity.defn(name="plan_backfill")
    async def plan_backfill(self, request: BackfillInput) -> list[TablePlan]:
        await self._call("plan_backfill")
        return [TablePlan(table="users", partitions=PARTITIONS, rows_total=1000)]

    @activity.defn(name="backfill_partition")
    async def backfill_partition(self, request: PartitionInput) -> PartitionResult:
        try:
            await self._call("backfill_partition")
            while request.partition in self.held_partitions:
                live = ProgressReport(
                    table=request.table,
                    partition=request.partition,
                    rows_done=LIVE_ROWS,
                    done=False,
                    rows_per_second=50,
                )
                activity.heartbeat(live)
                await asyncio.sleep(0.05)
            while self.paused:  # the partition holds at its next batch boundary
                activity.heartbeat()
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            self.partitions_cancelled += 1
            raise
        rows = 1000 // PARTITIONS
        progress = Progress(
            table=request.table, partition=request.partition, rows_done=rows, batches=1, last_key=None, done=True
        )
        return PartitionResult(progress=progress, rows_this_attempt=rows)

    @activity.defn(name="validate_constraints")
    async def validate_constraints(self, request: PhaseInput) -> None:
        await self._call("validate_constraints")

    @activity.defn(name="verify")
    async def verify(self, request: PhaseInput) -> VerifyReport:
        await self._call("verify")
        sample = [7] if self.mismatches else []
        return VerifyReport(
            tables=[TableReport(table="users", rows_checked=1000, mismatches=self.mismatches, sample_keys=sample)]
        )

    @activity.defn(name="cutover")
    async def cutover(self, request: PhaseInput) -> None:
        await self._call("cutover")

    @activity.defn(name="shift")
    async def shift(self, request: PhaseInput) -> None:
        self.shares.append(request.percent)
        await self._call(f"shift {request.percent}")

    @activity.defn(name="try_contract")
    async def try_contract(self, request: PhaseInput) -> None:
        await self._call("try_contract")

    @activity.defn(name="contract")
    async def contract(self, request: PhaseInput) -> None:
        await self._call("contract")

    @activity.defn(name="rollback")
    async def rollback(self, request: PhaseInput) -> None:
        self.rollback_reasons.append(request.reason)
        await self._call("rollback")

    @activity.defn(name="set_paused")
    async def set_paused(self, request: PhaseInput) -> None:
        self.pause_flags.append(request.paused)
        self.paused = request.paused
        await self._call("set_paused")

    def all(self) -> list[object]:
        return [
            self.prepare,
            self.expand,
            self.plan_backfill,
            self.backfill_partition,
            self.validate_constraints,
            self.verify,
            self.cutover,
            self.shift,
            self.try_contract,
            self.contract,
            self.rollback,
            self.set_paused,
        ]


@dataclass
class Fake:
    db: FakeDatabase
    client: Client
    task_queue: str
    target: str  # one per test: the workflow id derives from it
    started: list[WorkflowHandle] = field(default_factory=list)

    async def start(self, **options: object) -> WorkflowHandle:
        request = MigrationInput(
            target=self.target, migration=migration(ADD_COLUMN), options=MigrationOptions(**options)
        )
        handle = await start_migration(self.client, request, self.task_queue)
        self.started.append(handle)
        return handle


async def refused(handle: WorkflowHandle, update: str, *args: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(update, *args, result_type=str)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RequestRefused"
    return cause.message


async def status_of(handle: WorkflowHandle) -> MigrationStatus:
    return await handle.query(STATUS, result_type=MigrationStatus)


async def noted(handle: WorkflowHandle, error: str) -> None:
    """Until the status notes `error` (a signal that was ignored)."""
    while (await status_of(handle)).last_error != error:
        await asyncio.sleep(0.05)


@asynccontextmanager
async def fake_worker(client: Client, db: FakeDatabase, prefix: str) -> AsyncIterator[Fake]:
    """A worker running MigrationWorkflow over `db`'s activities on a task queue of its own; a test that stops
    halfway leaves no workflow running."""
    suffix = uuid.uuid4().hex[:8]
    task_queue = f"liveshift-{prefix}-{suffix}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[MigrationWorkflow],
        activities=db.all(),
        workflow_runner=workflow_runner(),
    ):
        fake = Fake(db, client, task_queue, f"{prefix}-{suffix}")
        yield fake
        for handle in fake.started:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")
