"""A fleet against fake members: the real FleetWorkflow and MigrationWorkflow on the dev server, over the fake
activities of fake_activities.py, which here tell members apart by the target their activities name (a test makes
one member fail, or hold, by its address); and what fleet tests read of a rollout's history."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from liveshift.activities.payloads import HealthInput, PhaseInput, PrepareInput
from liveshift.fleet.members import Member
from liveshift.health import HealthResult
from liveshift.lifecycle import Phase
from liveshift.values import Prepared
from liveshift.workflows.fleet import FleetWorkflow
from liveshift.workflows.fleet_client import fleet_status, start_fleet
from liveshift.workflows.fleet_models import FleetInput, FleetStatus
from liveshift.workflows.migration import MigrationWorkflow
from liveshift.workflows.models import WORKFLOW_NAME, MigrationInput, MigrationOptions, MigrationStatus
from liveshift.workflows.sandbox import workflow_runner
from tests.harness.apps import ADD_COLUMN
from tests.harness.db import migration
from tests.harness.fake_activities import FakeDatabase

FAST = MigrationOptions(auto_cutover=True, soak_seconds=0, drain_seconds=0)


class FakeMembers(FakeDatabase):
    """FakeDatabase whose prepare and cutover fail for the addresses in `failing`, which the health check
    answers with `healthy`, and which counts each phase call per member address."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: dict[str, str] = {}  # address -> the activity that fails there (prepare or cutover)
        self.per_member: Counter[tuple[str, str]] = Counter()
        self.healthy = True
        self.held: dict[str, asyncio.Event] = {}  # address -> prepare holds there until set

    def _member_call(self, address: str, name: str) -> None:
        self.per_member[(address, name)] += 1
        if self.failing.get(address) == name:
            raise ApplicationError(f"{name} failed on {address}", type="SpecError", non_retryable=True)

    @activity.defn(name="prepare")
    async def prepare(self, request: PrepareInput) -> Prepared:
        self._member_call(request.target, "prepare")
        while (held := self.held.get(request.target)) is not None and not held.is_set():
            activity.heartbeat()
            await asyncio.sleep(0.05)
        return await super().prepare(request)

    @activity.defn(name="cutover")
    async def cutover(self, request: PhaseInput) -> None:
        self._member_call(request.target, "cutover")
        await super().cutover(request)

    @activity.defn(name="contract")
    async def contract(self, request: PhaseInput) -> None:
        self._member_call(request.target, "contract")
        await super().contract(request)

    @activity.defn(name="rollback")
    async def rollback(self, request: PhaseInput) -> None:
        self._member_call(request.target, "rollback")
        await super().rollback(request)

    @activity.defn(name="check_health")
    async def check_health(self, request: HealthInput) -> HealthResult:
        return HealthResult(healthy=self.healthy, value="1" if self.healthy else "0 (fake)")

    def all(self) -> list[object]:
        return [*super().all(), self.check_health]


@dataclass
class FakeFleet:
    db: FakeMembers
    client: Client
    task_queue: str
    prefix: str  # one per test: member targets (and so the members' workflow ids) are the test's own
    started: list[WorkflowHandle] = field(default_factory=list)

    def members(self, n: int) -> list[Member]:
        return [Member(key=f"m{i}", target=f"{self.prefix}-m{i}") for i in range(n)]

    async def start(self, members: list[Member], **fields: object) -> WorkflowHandle[object, FleetStatus]:
        request = FleetInput.model_validate(
            {"name": self.prefix, "migration": migration(ADD_COLUMN), "options": FAST, "members": members} | fields
        )
        handle = await start_fleet(self.client, request, self.task_queue)
        self.started.append(handle)
        return handle


@asynccontextmanager
async def fake_fleet(client: Client, prefix: str) -> AsyncIterator[FakeFleet]:
    db = FakeMembers()
    task_queue = f"liveshift-fleet-{prefix}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[MigrationWorkflow, FleetWorkflow],
        activities=db.all(),
        workflow_runner=workflow_runner(),
        max_concurrent_activities=64,
    ):
        fleet = FakeFleet(db, client, task_queue, prefix)
        yield fleet
        for handle in fleet.started:  # a test that stops halfway leaves no rollout running (nor its members)
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")


async def wait_for_state(
    handle: WorkflowHandle, *states: str, timeout: float = 60, until: object = None
) -> FleetStatus:
    """Until the rollout is in one of `states` (and, with `until`, `until(status)` holds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await fleet_status(handle)
        if status.state in states and (until is None or until(status)):  # type: ignore[operator]
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"fleet {status.state}, not {states}, after {timeout}s: {status.summary()}")
        await asyncio.sleep(0.1)


async def child_events(handle: WorkflowHandle) -> list[tuple[str, str]]:
    """The rollout's member starts and ends, in history order: ("started" | "completed" | "failed", member id)."""
    out = []
    for e in (await handle.fetch_history()).events:
        if e.HasField("child_workflow_execution_started_event_attributes"):
            out.append(("started", e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id))
        elif e.HasField("child_workflow_execution_completed_event_attributes"):
            a = e.child_workflow_execution_completed_event_attributes
            out.append(("completed", a.workflow_execution.workflow_id))
        elif e.HasField("child_workflow_execution_failed_event_attributes"):
            out.append(("failed", e.child_workflow_execution_failed_event_attributes.workflow_execution.workflow_id))
    return out


def most_in_flight(events: list[tuple[str, str]]) -> int:
    in_flight = top = 0
    for kind, _ in events:
        in_flight += 1 if kind == "started" else -1
        top = max(top, in_flight)
    return top


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class InstantMember:
    """A member's migration that completes at once: a fleet of 1,000 members runs in minutes on this stand-in."""

    @workflow.run
    async def run(self, input: MigrationInput) -> MigrationStatus:
        return MigrationStatus(
            workflow_id=workflow.info().workflow_id,
            migration=input.migration.name,
            target=input.target,
            schema_name=input.migration.schema_name,
            tables=input.migration.tables(),
            phase=Phase.COMPLETE,
        )


@asynccontextmanager
async def instant_fleet(client: Client, prefix: str) -> AsyncIterator[FakeFleet]:
    """FleetWorkflow over InstantMember children (no activities)."""
    task_queue = f"liveshift-instant-{prefix}"
    async with Worker(
        client, task_queue=task_queue, workflows=[InstantMember, FleetWorkflow], workflow_runner=workflow_runner()
    ):
        yield FakeFleet(FakeMembers(), client, task_queue, prefix)
