"""FleetWorkflow's logic (waves, concurrency, the failure budget, halt and retry, rollback, the one flip, the health
gate, continue-as-new) on the real Temporal dev server, each member a real MigrationWorkflow over fake activities
(tests/harness/fake_fleet.py): no PostgreSQL, seconds per test. test_fleet.py runs a fleet on real databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from liveshift.workflows.client import Refused
from liveshift.workflows.fleet_client import fleet_request, fleet_status
from liveshift.workflows.fleet_models import HALT, RETRY, FleetApprove, FleetRollback
from liveshift.workflows.models import APPROVE, RESUME, ROLLBACK
from tests.harness.fake_fleet import (
    FakeFleet,
    child_events,
    fake_fleet,
    instant_fleet,
    most_in_flight,
    wait_for_state,
)
from tests.harness.temporal import TemporalServer, record_history

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
async def fleet(temporal: TemporalServer) -> AsyncIterator[FakeFleet]:
    async with fake_fleet(temporal.client, f"fl-{uuid.uuid4().hex[:8]}") as fleet:
        yield fleet


async def test_canary_then_waves_within_max_concurrency(fleet: FakeFleet) -> None:
    members = fleet.members(7)
    handle = await fleet.start(members, waves={"canary": 1, "batch_size": 3, "max_concurrency": 2})
    result = await handle.result()
    assert result.state == "complete" and result.summary() == {"done": 7, "running": 0, "failed": 0, "pending": 0}
    assert result.waves == [["m0"], ["m1", "m2", "m3"], ["m4", "m5", "m6"]]
    assert all(m.phase == "complete" and m.attempts == 1 for m in result.members)  # as each member reported it
    events = await child_events(handle)
    canary = result.member("m0").workflow_id
    assert events[:2] == [("started", canary), ("completed", canary)]  # the canary ends before any other starts
    assert most_in_flight(events) == 2
    wave_two = {result.member(k).workflow_id for k in ("m1", "m2", "m3")}
    first_of_wave_three = next(i for i, (kind, wid) in enumerate(events) if wid == result.member("m4").workflow_id)
    assert {wid for kind, wid in events[:first_of_wave_three] if kind == "completed"} >= wave_two
    assert all(fleet.db.per_member[(m.target, "contract")] == 1 for m in members)
    assert REGISTRY.get_sample_value("liveshift_fleet_members", {"fleet": fleet.prefix, "state": "done"}) == 7
    record_history("fleet_waves", (await handle.fetch_history()).to_json())


async def test_a_failure_halts_the_wave_and_a_retry_completes(fleet: FakeFleet) -> None:
    members = fleet.members(6)
    fleet.db.failing[members[2].target] = "prepare"
    handle = await fleet.start(members, waves={"canary": 1, "batch_size": 3, "max_concurrency": 3})
    status = await wait_for_state(handle, "halted")
    assert status.reason is not None and status.reason.startswith("member m2 failed: prepare failed on")
    states = {m.member.key: m.state for m in status.members}
    assert states == {"m0": "complete", "m1": "complete", "m2": "failed", "m3": "complete"} | {
        "m4": "pending", "m5": "pending",
    }  # fmt: skip  # the wave's others finished (on_halt finish); the next wave never started
    assert all(fleet.db.per_member[(m.target, "prepare")] == 0 for m in members[4:])
    fleet.db.failing.clear()  # the cause fixed: only the failed member runs again
    assert await fleet_request(handle, RETRY) == "retrying 1 failed members"
    result = await handle.result()
    assert result.state == "complete" and result.member("m2").attempts == 2
    assert [fleet.db.per_member[(m.target, "prepare")] for m in members] == [1, 1, 2, 1, 1, 1]
    assert [fleet.db.per_member[(m.target, "contract")] for m in members] == [1] * 6  # nothing repeated
    record_history("fleet_failure_retry", (await handle.fetch_history()).to_json())


async def test_halt_rolls_back_in_flight_and_rollback_ends_the_rest(fleet: FakeFleet) -> None:
    members = fleet.members(5)
    fleet.db.held = {m.target: asyncio.Event() for m in members[1:]}  # the canary goes through
    handle = await fleet.start(members, on_halt="rollback", waves={"canary": 1, "batch_size": 2})
    await wait_for_state(handle, "running", until=lambda s: s.summary()["running"] == 2)
    with pytest.raises(Refused, match="neither paused nor halted"):
        await fleet_request(handle, RESUME)
    assert "halting" in await fleet_request(handle, HALT, FleetRollback(reason="bad metrics"))
    for event in fleet.db.held.values():
        event.set()
    status = await wait_for_state(handle, "halted")
    assert [m.state for m in status.members] == ["complete", "failed", "failed", "pending", "pending"]
    assert status.reason == "halted by operator: bad metrics"
    await fleet_request(handle, ROLLBACK, FleetRollback(reason="give up"))
    result = await handle.result()
    assert result.state == "rolled_back" and [m.state for m in result.members][3:] == ["pending", "pending"]
    assert fleet.db.per_member[(members[0].target, "rollback")] == 0  # contracted: stays


async def test_one_flip_cuts_every_member_over_on_one_approval(fleet: FakeFleet) -> None:
    members = fleet.members(4)
    handle = await fleet.start(members, one_flip=True, waves={"canary": 1, "batch_size": 3, "max_concurrency": 2})
    status = await wait_for_state(handle, "awaiting_flip")
    assert {m.phase for m in status.members} == {"awaiting_cutover"}
    assert not any(fleet.db.per_member[(m.target, "cutover")] for m in members)
    await fleet_request(handle, APPROVE, FleetApprove(gate="flip"))
    result = await handle.result()
    assert result.state == "complete"
    assert [fleet.db.per_member[(m.target, "contract")] for m in members] == [1] * 4
    record_history("fleet_one_flip", (await handle.fetch_history()).to_json())
    canary = fleet.client.get_workflow_handle(result.member("m0").workflow_id)
    record_history("fleet_member_reports_phases", (await canary.fetch_history()).to_json())


async def test_one_flip_a_member_that_cannot_flip_sends_all_back(fleet: FakeFleet) -> None:
    members = fleet.members(3)
    fleet.db.failing[members[1].target] = "cutover"
    handle = await fleet.start(members, one_flip=True, waves={"canary": 1, "batch_size": 2})
    await wait_for_state(handle, "awaiting_flip")
    await fleet_request(handle, APPROVE, FleetApprove(gate="flip"))
    result = await handle.result()
    assert result.state == "rolled_back" and result.reason is not None and result.reason.startswith("member m1")
    assert not any(fleet.db.per_member[(m.target, "contract")] for m in members)
    assert all(fleet.db.per_member[(m.target, "rollback")] == 1 for m in members)


async def test_health_gate_halts_and_resume_goes_on(fleet: FakeFleet) -> None:
    fleet.db.healthy = False
    check = {"kind": "sql", "query": "SELECT true"}
    handle = await fleet.start(fleet.members(3), waves={"canary": 1, "batch_size": 2, "health": check})
    status = await wait_for_state(handle, "halted")
    assert status.reason == "health check before wave 2: 0 (fake)" and status.summary()["pending"] == 2
    assert await fleet_request(handle, RESUME) == "resumed: the failures so far are accepted"
    assert (await handle.result()).state == "complete"


async def test_approval_between_waves_by_update_or_signal(fleet: FakeFleet) -> None:
    handle = await fleet.start(fleet.members(2), waves={"canary": 1, "approve": True})
    status = await wait_for_state(handle, "awaiting_approval")
    assert status.summary() == {"done": 1, "running": 0, "failed": 0, "pending": 1}
    with pytest.raises(Refused, match="not awaiting flip"):
        await fleet_request(handle, APPROVE, FleetApprove(gate="flip"))
    await handle.signal(APPROVE, FleetApprove(gate="flip"))  # the fire-and-forget form: ignored, and noted
    await wait_for_state(handle, "awaiting_approval", until=lambda s: s.note is not None)
    assert (
        await fleet_status(handle)
    ).note == "approve signal ignored: the rollout is awaiting_approval, not awaiting flip"
    await handle.signal(APPROVE, FleetApprove(gate="wave"))
    assert (await handle.result()).state == "complete"


async def test_history_stays_bounded_by_continue_as_new(fleet: FakeFleet) -> None:
    limit = 100
    handle = await fleet.start(
        fleet.members(12), history_limit=limit, waves={"canary": 0, "batch_size": 2, "max_concurrency": 2}
    )
    result = await handle.result()
    assert result.state == "complete" and result.summary()["done"] == 12 and result.runs > 1
    runs = [e async for e in fleet.client.list_workflows(f"WorkflowId = '{handle.id}'")]
    assert len(runs) == result.runs
    for run in runs:  # each run stops past the limit at the end of a wave: at most one wave's events more
        history = await fleet.client.get_workflow_handle(handle.id, run_id=run.run_id).fetch_history()
        assert len(history.events) < limit + 80
    assert (await fleet_status(handle)).runs == result.runs


@pytest.mark.skipif(not os.environ.get("LIVESHIFT_FLEET_1000"), reason="on demand: LIVESHIFT_FLEET_1000=1 (minutes)")
@pytest.mark.timeout(900)
async def test_a_thousand_members_keep_every_run_bounded(temporal: TemporalServer) -> None:
    limit = 2_000
    async with instant_fleet(temporal.client, f"fl-{uuid.uuid4().hex[:8]}") as fleet:
        handle = await fleet.start(
            fleet.members(1000), history_limit=limit, waves={"canary": 1, "batch_size": 50, "max_concurrency": 50}
        )
        result = await handle.result()
        assert result.state == "complete" and result.summary()["done"] == 1000
        lengths = [
            len((await fleet.client.get_workflow_handle(handle.id, run_id=run.run_id).fetch_history()).events)
            async for run in fleet.client.list_workflows(f"WorkflowId = '{handle.id}'")
        ]
        assert len(lengths) == result.runs > 1 and max(lengths) < limit + 50 * 12
        print(f"1,000 members: {result.runs} runs, history events per run {sorted(lengths)}")
