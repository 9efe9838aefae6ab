"""The workflow's control logic (pause, resume, refusals, gates, rollback, cancellation, failures) on the real
Temporal dev server, against activities registered under the real names that fake the database side: no
PostgreSQL, seconds per test. test_workflow_control.py proves the same against a real database end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import ApplicationError, CancelledError

from liveshift.workflows import client as workflow_client
from liveshift.workflows.models import (
    APPROVE,
    PAUSE,
    RESUME,
    ROLLBACK,
    ApproveRequest,
    RollbackRequest,
)
from tests.harness.fake_activities import (
    LIVE_ROWS,
    PARTITIONS,
    Fake,
    FakeDatabase,
    fake_worker,
    noted,
    refused,
    status_of,
)
from tests.harness.temporal import TemporalServer, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NAME = "users_email_lower"


@pytest.fixture
async def fake(temporal: TemporalServer) -> AsyncIterator[Fake]:
    async with fake_worker(temporal.client, FakeDatabase(), "fake") as fake:
        yield fake


async def scheduled_once_processed(handle: WorkflowHandle, activity_type: str) -> list[str]:
    """The activities the workflow has scheduled, once it has decided what follows `activity_type`'s completion
    (a workflow task completed after it): what it did not schedule then, it holds back."""
    while True:
        events = (await handle.fetch_history()).events
        scheduled = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name for e in events}
        completed = [
            e.event_id
            for e in events
            if e.HasField("activity_task_completed_event_attributes")
            and scheduled.get(e.activity_task_completed_event_attributes.scheduled_event_id) == activity_type
        ]
        if completed and any(
            e.HasField("workflow_task_completed_event_attributes") and e.event_id > completed[0] for e in events
        ):
            return [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in events
                if e.HasField("activity_task_scheduled_event_attributes")
            ]
        await asyncio.sleep(0.05)


def failure(error: WorkflowFailureError) -> str:
    """The workflow's own failure: a MigrationFailed, non-retryable, and its message."""
    cause = error.cause
    assert isinstance(cause, ApplicationError) and cause.type == "MigrationFailed" and cause.non_retryable
    return cause.message


def phase_gauge(phase: str) -> float | None:
    return REGISTRY.get_sample_value("liveshift_migration_phase", {"migration": NAME, "phase": phase})


async def test_pause_resume_gates_and_refusals(fake: Fake) -> None:
    db = fake.db
    partitions = db.hold("backfill_partition")
    handle = await fake.start()
    await db.reached["backfill_partition"].wait()
    assert await refused(handle, RESUME) == "not paused (phase backfill)"
    await handle.signal(RESUME)  # the fire-and-forget form: ignored, and the status says why
    await noted(handle, "resume signal ignored: not paused (phase backfill)")
    for gate in ("cutover", "contract"):
        refusal = await refused(handle, APPROVE, ApproveRequest(gate=gate))  # type: ignore[arg-type]
        assert refusal == f"the {gate} gate is not waiting for approval (no gate is waiting; phase backfill)"

    message = await handle.execute_update(PAUSE, result_type=str)
    assert message == "paused in phase backfill: backfill stops at the next batch boundary"
    assert db.pause_flags == [True]
    assert await refused(handle, PAUSE) == "already paused"
    partitions.set()  # the partitions could finish now, but they hold at their next batch: paused
    status = await status_of(handle)
    assert (status.phase, status.paused) == ("backfill", True)

    assert await handle.execute_update(RESUME, result_type=str) == "resumed in phase backfill"
    status = await wait_for_phase(handle, "awaiting_cutover", timeout=20)
    assert status.waiting_for == "cutover" and db.pause_flags == [True, False]
    assert (status.progress[0].rows_done, status.progress[0].partitions_done) == (1000, PARTITIONS)
    assert phase_gauge("awaiting_cutover") == 1 and phase_gauge("backfill") == 0
    refusal = await refused(handle, APPROVE, ApproveRequest(gate="contract"))
    assert (
        refusal == "the contract gate is not waiting for approval (the cutover gate is waiting; phase awaiting_cutover)"
    )
    assert await handle.execute_update(APPROVE, ApproveRequest(gate="cutover"), result_type=str) == "cutover approved"
    await wait_for_phase(handle, "awaiting_contract", timeout=20)

    contract = db.hold("contract")
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    await db.reached["contract"].wait()
    irreversible = "cannot roll back: contract has begun (it is irreversible)"
    assert await refused(handle, ROLLBACK, RollbackRequest(reason="too late")) == irreversible
    assert await refused(handle, PAUSE) == "cannot pause: the migration is in phase contract"
    await handle.signal(ROLLBACK, RollbackRequest(reason="too late"))
    await noted(handle, f"rollback signal ignored: {irreversible}")
    contract.set()
    result = await handle.result()
    assert result.phase == "complete" and phase_gauge("complete") == 1
    assert db.calls == [
        "prepare", "expand", "plan_backfill", "backfill_partition", "backfill_partition", "set_paused", "set_paused",
        "validate_constraints", "verify", "cutover", "try_contract", "contract",
    ]  # fmt: skip


async def test_pause_and_resume_signals_between_phases(fake: Fake) -> None:
    db = fake.db
    expand = db.hold("expand")
    handle = await fake.start(auto_cutover=True)
    await db.reached["expand"].wait()
    await handle.signal(PAUSE)
    while not (await status_of(handle)).paused:
        await asyncio.sleep(0.05)
    expand.set()  # expand finishes; the workflow holds before backfill
    scheduled = await scheduled_once_processed(handle, "expand")
    assert scheduled.count("set_paused") == 1 and "plan_backfill" not in scheduled
    assert (await status_of(handle)).phase == "expand"
    await handle.signal(PAUSE)
    await noted(handle, "pause signal ignored: already paused")
    await handle.signal(RESUME)
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    assert db.pause_flags == [True, False]


# (phase to roll back in, the activity to hold so the workflow stays in it)
ROLLBACK_POINTS = [
    ("starting", "prepare"),
    ("expand", "expand"),
    ("backfill", "backfill_partition"),
    ("verify", "verify"),
    ("awaiting_cutover", None),
    ("cutover", "cutover"),
    ("awaiting_contract", None),
]


@pytest.mark.parametrize(("phase", "held"), ROLLBACK_POINTS, ids=[p for p, _ in ROLLBACK_POINTS])
async def test_rollback_from_each_phase(fake: Fake, phase: str, held: str | None) -> None:
    db = fake.db
    release = db.hold(held) if held else None
    handle = await fake.start(auto_cutover=phase in ("cutover", "awaiting_contract"))
    if held:
        await db.reached[held].wait()
    await wait_for_phase(handle, phase, timeout=20)
    reason = f"operator rolls back in {phase}"
    message = await handle.execute_update(ROLLBACK, RollbackRequest(reason=reason), result_type=str)
    assert message == f"rolling back from phase {phase}: {reason}"
    if release is not None and held != "backfill_partition":
        release.set()  # a phase step in flight finishes first: none is abandoned halfway
    result = await handle.result()
    assert result.phase == "rolled_back" and result.rollback_reason == reason
    assert [t.phase for t in result.transitions][-2:] == ["rolling_back", "rolled_back"]
    assert db.rollback_reasons == [reason] and db.calls[-1] == "rollback"
    if held == "backfill_partition":
        assert db.partitions_cancelled == PARTITIONS  # stopped (at a batch boundary) before the rollback ran


async def test_verification_failure_rolls_back_and_fails(fake: Fake) -> None:
    fake.db.mismatches = 1
    handle = await fake.start()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    summary = "verification failed: users: 1 of 1000 rows disagree (sample keys [7])"
    assert failure(info.value) == f"{summary} (rolled back)"
    status = await status_of(handle)
    assert (status.phase, status.rollback_reason, status.last_error) == ("rolled_back", summary, summary)
    assert fake.db.rollback_reasons == [summary]


async def test_bad_input_fails_without_a_rollback(fake: Fake) -> None:
    fake.db.fail("prepare", "SpecError", "field 'up': does not compile")
    handle = await fake.start()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert failure(info.value) == "field 'up': does not compile"
    status = await status_of(handle)
    assert [t.phase for t in status.transitions] == ["starting", "failed"]
    assert fake.db.calls == ["prepare"]  # nothing was recorded, so there is nothing to roll back


async def test_contract_failure_fails_without_a_rollback(fake: Fake) -> None:
    fake.db.fail("contract", "MigrationStateError", "cannot contract migration: it is verified")
    handle = await fake.start(auto_cutover=True, soak_seconds=0)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert failure(info.value) == "contract failed: cannot contract migration: it is verified"
    status = await status_of(handle)
    assert [t.phase for t in status.transitions][-2:] == ["contract", "failed"]
    assert "rollback" not in fake.db.calls and phase_gauge("failed") == 1


async def test_a_contract_that_would_fail_waits_at_its_gate_and_may_still_roll_back(fake: Fake) -> None:
    """try_contract (contract's statements in a rolled-back transaction) refuses: nothing was dropped, so the
    migration waits at the contract gate with the error, its approval withdrawn; approved again once the cause is
    gone, it contracts. Refused again, a rollback is still allowed."""
    why = "contract would fail, nothing was changed: cannot drop column score (SQLSTATE 2BP01)"
    fake.db.fail("try_contract", "ContractRefused", why)
    handle = await fake.start(auto_cutover=True, soak_seconds=0)
    status = await wait_for_phase(handle, "awaiting_contract", timeout=20)
    while status.last_error != why:
        status = await status_of(handle)
    assert (status.phase, status.waiting_for) == ("awaiting_contract", "contract")
    assert "contract" not in fake.db.calls
    del fake.db.failures["try_contract"]  # the operator dropped what was in the way
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    result = await handle.result()
    assert result.phase == "complete"
    assert fake.db.calls[-3:] == ["try_contract", "try_contract", "contract"]
    assert [t.phase for t in result.transitions][-3:] == ["awaiting_contract", "contract", "complete"]
    record_history("add_column_contract_refused_then_approved", (await handle.fetch_history()).to_json())


async def test_a_refused_contract_may_be_rolled_back(fake: Fake) -> None:
    fake.db.fail("try_contract", "ContractRefused", "contract would fail, nothing was changed: x (SQLSTATE 2BP01)")
    handle = await fake.start(auto_cutover=True, soak_seconds=0)
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    while (await status_of(handle)).last_error is None:
        await asyncio.sleep(0.05)
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="view in the way"), result_type=str)
    result = await handle.result()
    assert (result.phase, result.rollback_reason) == ("rolled_back", "view in the way")
    assert "contract" not in fake.db.calls and fake.db.rollback_reasons == ["view in the way"]


@pytest.mark.parametrize("phase", ["backfill", "awaiting_contract"])
async def test_cancel_before_contract_rolls_back(fake: Fake, phase: str) -> None:
    if phase == "backfill":
        fake.db.hold("backfill_partition")
    handle = await fake.start(auto_cutover=True)
    await wait_for_phase(handle, phase, timeout=20)
    await handle.cancel(reason="wrong migration")
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    status = await status_of(handle)
    assert status.phase == "rolled_back"
    assert status.rollback_reason == "workflow cancelled through Temporal: wrong migration"
    assert fake.db.rollback_reasons == [status.rollback_reason]


async def test_cancel_after_a_rollback_request_keeps_its_reason(fake: Fake) -> None:
    rollback = fake.db.hold("rollback")
    handle = await fake.start()
    await wait_for_phase(handle, "awaiting_cutover", timeout=20)
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="operator"), result_type=str)
    await fake.db.reached["rollback"].wait()
    await handle.cancel()
    rollback.set()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    assert (await status_of(handle)).rollback_reason == "operator"


async def test_cancel_during_contract_is_ignored_and_contract_finishes(fake: Fake) -> None:
    contract = fake.db.hold("contract")
    handle = await fake.start(auto_cutover=True, soak_seconds=0)
    await fake.db.reached["contract"].wait()
    await handle.cancel()
    await noted(handle, "cancellation ignored: cannot roll back: contract has begun (it is irreversible)")
    contract.set()
    result = await handle.result()
    assert result.phase == "complete"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert "rollback" not in fake.db.calls


async def test_a_finished_partition_counts_at_once_and_a_running_one_through_its_heartbeats(fake: Fake) -> None:
    """The workflow records a partition's result as it finishes; a running one reports only in its heartbeat
    details, which `liveshift status` merges in; no progress signal reaches the history."""
    fake.db.held_partitions.add(1)
    handle = await fake.start(auto_cutover=True, soak_seconds=0)
    while not (own := await status_of(handle)).progress or own.progress[0].partitions_done < 1:
        await asyncio.sleep(0.05)
    assert own.phase == "backfill" and (own.progress[0].rows_done, own.rows_total) == (1000 // PARTITIONS, 1000)
    while (live := await workflow_client.status(handle)).rows_done == own.rows_done:
        await asyncio.sleep(0.05)
    [users] = live.progress
    assert (users.rows_done, users.partitions_done, users.rows_per_second) == (1000 // PARTITIONS + LIVE_ROWS, 1, 50)
    assert [(r.partition, r.done) for r in live.partitions] == [(0, True), (1, False)]

    fake.db.held_partitions.clear()
    result = await handle.result()
    assert (result.phase, result.rows_done, result.progress[0].partitions_done) == ("complete", 1000, PARTITIONS)
    events = (await handle.fetch_history()).events
    assert not [e for e in events if e.HasField("workflow_execution_signaled_event_attributes")]
