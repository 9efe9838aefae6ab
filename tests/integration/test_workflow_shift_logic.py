"""Green's share between cutover and contract (operator shifts, health-gated scheduled steps, the contract gate at
100%) on the real Temporal dev server, against the fake activities (tests/harness/fake_activities.py, `shift`
included) plus `check_health` under their real names. test_workflow_shift.py proves it against PostgreSQL and
Prometheus."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle

from liveshift.activities.payloads import HealthInput, PhaseInput
from liveshift.health import HealthCheck, HealthResult
from liveshift.workflows.models import (
    APPROVE,
    PAUSE,
    RESUME,
    ROLLBACK,
    SHIFT,
    ApproveRequest,
    RollbackRequest,
    ShiftRequest,
)
from tests.harness.fake_activities import Fake, FakeDatabase, fake_worker, noted, refused, status_of
from tests.harness.temporal import TemporalServer, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SQL_CHECK = HealthCheck(kind="sql", query="SELECT true")


class ShiftingDatabase(FakeDatabase):
    """Also records the share cutover applies, and answers health checks from a script (healthy once it runs out)."""

    def __init__(self) -> None:
        super().__init__()
        self.health: list[bool] = []  # the answers still to give, in order
        self.checks = 0

    @activity.defn(name="cutover")
    async def cutover(self, request: PhaseInput) -> None:
        self.shares.append(request.percent)
        await self._call("cutover")

    @activity.defn(name="check_health")
    async def check_health(self, request: HealthInput) -> HealthResult:
        self.checks += 1
        healthy = self.health.pop(0) if self.health else True
        await self._call("check " + ("ok" if healthy else "failing"))
        return HealthResult(healthy=healthy, value="true" if healthy else "error rate 0.31")

    def all(self) -> list[object]:
        return [*super().all(), self.check_health]


@pytest.fixture
async def fake(temporal: TemporalServer) -> AsyncIterator[Fake]:
    async with fake_worker(temporal.client, ShiftingDatabase(), "shift") as fake:
        yield fake


async def shift(handle: WorkflowHandle, percent: int) -> str:
    return await handle.execute_update(SHIFT, ShiftRequest(percent=percent), result_type=str)


async def until(handle: WorkflowHandle, predicate: object, timeout: float = 20) -> None:
    """Until `predicate(status)` holds."""
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate(await status_of(handle)):
        assert asyncio.get_running_loop().time() < deadline, await status_of(handle)
        await asyncio.sleep(0.05)


def db_of(fake: Fake) -> ShiftingDatabase:
    assert isinstance(fake.db, ShiftingDatabase)
    return fake.db


async def test_shift_up_and_down_at_the_contract_gate_and_contract_needs_100(fake: Fake) -> None:
    db = db_of(fake)
    handle = await fake.start(auto_cutover=True, cutover_percent=10)
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    assert await shift(handle, 25) == "green has 25% of clients (was 10%)"
    assert await shift(handle, 0) == "green has 0% of clients (was 25%)"  # everyone back to blue
    refusal = await refused(handle, APPROVE, ApproveRequest(gate="contract"))
    assert refusal == "contract needs 100% of clients on green; green has 0% (liveshift shift 100)"
    await handle.signal(APPROVE, ApproveRequest(gate="contract"))  # the signal twin: ignored, and noted
    await noted(handle, f"approve signal ignored: {refusal}")
    await handle.execute_update(PAUSE, result_type=str)
    assert await shift(handle, 60) == "green has 60% of clients (was 0%)"  # paused: shifts still apply
    await handle.execute_update(RESUME, result_type=str)
    await handle.signal(SHIFT, ShiftRequest(percent=100))
    await until(handle, lambda s: s.green_percent == 100)
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    result = await handle.result()
    assert result.phase == "complete"
    assert db.shares == [10, 25, 0, 60, 100]
    assert [(c.percent, c.by) for c in result.shifts] == [
        (10, "cutover"), (25, "operator"), (0, "operator"), (60, "operator"), (100, "operator"),
    ]  # fmt: skip
    assert db.calls[-3:] == ["shift 100", "try_contract", "contract"]


async def test_a_shift_below_100_withdraws_a_contract_approval(fake: Fake) -> None:
    db = db_of(fake)
    contract = db.hold("contract")
    handle = await fake.start(auto_cutover=True, soak_seconds=3600)  # the soak alone would not end the test
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    await handle.execute_update(PAUSE, result_type=str)  # approval while paused: the gate holds before contract
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    await shift(handle, 40)  # withdraws the approval: resuming must not contract at 40%
    await handle.execute_update(RESUME, result_type=str)
    await until(handle, lambda s: s.waiting_for == "contract" and not s.paused)
    assert "contract" not in db.calls
    await shift(handle, 100)
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    await db.reached["contract"].wait()
    contract.set()
    assert (await handle.result()).phase == "complete"


async def test_shift_refused_before_cutover_during_it_and_once_contract_began(fake: Fake) -> None:
    db = db_of(fake)
    partitions = db.hold("backfill_partition")
    cutover = db.hold("cutover")
    contract = db.hold("contract")
    handle = await fake.start()
    await db.reached["backfill_partition"].wait()
    assert await refused(handle, SHIFT, ShiftRequest(percent=5)) == (
        "cannot shift: the migration has not cut over yet (phase backfill)"
    )
    await handle.signal(SHIFT, ShiftRequest(percent=5))
    await noted(handle, "shift signal ignored: cannot shift: the migration has not cut over yet (phase backfill)")
    partitions.set()
    await wait_for_phase(handle, "awaiting_cutover", timeout=20)
    assert await refused(handle, SHIFT, ShiftRequest(percent=5)) == (
        "cannot shift: the migration has not cut over yet (phase awaiting_cutover)"
    )
    await handle.execute_update(APPROVE, ApproveRequest(gate="cutover"), result_type=str)
    await db.reached["cutover"].wait()
    assert await refused(handle, SHIFT, ShiftRequest(percent=5)) == (
        "cannot shift: cutover is in progress (shift once the migration awaits contract)"
    )
    cutover.set()
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    await db.reached["contract"].wait()
    assert await refused(handle, SHIFT, ShiftRequest(percent=0)) == (
        "cannot shift: contract has begun (green has every client for good)"
    )
    contract.set()
    assert (await handle.result()).phase == "complete"
    assert db.shares == [100]


async def test_shift_refused_while_rolling_back(fake: Fake) -> None:
    db = db_of(fake)
    rollback = db.hold("rollback")
    handle = await fake.start(auto_cutover=True)
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="bad idea"), result_type=str)
    await db.reached["rollback"].wait()
    assert await refused(handle, SHIFT, ShiftRequest(percent=50)) == "cannot shift: the migration is rolling back"
    rollback.set()
    assert (await handle.result()).phase == "rolled_back"


async def test_a_rollback_while_the_cutover_waits_to_retry_sends_everyone_to_blue_and_drains(fake: Fake) -> None:
    """The cutover's answer was lost (it may have committed, and clients followed the flag): the rollback treats
    it as a rollback after cutover, share 0% first, then the drain, then green's views dropped."""
    db = db_of(fake)
    db.transient["cutover"] = "server closed the connection unexpectedly"
    handle = await fake.start(auto_cutover=True, drain_seconds=2)
    await until(handle, lambda s: s.phase == "cutover" and (s.last_error or "").startswith("cutover:"))
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="lost answer"), result_type=str)
    result = await handle.result()
    assert result.phase == "rolled_back"
    assert db.calls[-2:] == ["shift 0", "rollback"]
    assert [(c.percent, c.by) for c in result.shifts] == [(0, "rollback")]
    drained = (result.transitions[-1].at - result.shifts[-1].at).total_seconds()
    assert drained >= 2  # green's views went only after the drain
    record_history("add_column_rollback_during_cutover_retry", (await handle.fetch_history()).to_json())


def steps_options(**extra: object) -> dict[str, object]:
    return {
        "auto_cutover": True,
        "canary_steps": [10, 50, 100],
        "step_seconds": 2,
        "health": SQL_CHECK,
        "health_interval_s": 1,  # the dev server fires timers at a granularity of about a second
        "soak_seconds": 0,
    } | extra


async def test_scheduled_steps_advance_on_healthy_checks(fake: Fake) -> None:
    db = db_of(fake)
    handle = await fake.start(**steps_options())
    result = await handle.result()
    assert result.phase == "complete"
    assert db.shares == [0, 10, 50, 100]  # cutover sends nobody; the steps move green
    assert [(c.percent, c.by) for c in result.shifts] == [(0, "cutover"), (10, "schedule"), (50, "schedule"),
                                                          (100, "schedule")]  # fmt: skip
    # each step follows a healthy check, and each dwell checks again before the next step
    steps = [i for i, call in enumerate(db.calls) if call.startswith("shift")]
    assert all(db.calls[i - 1] == "check ok" for i in steps)
    dwell_checks = [db.calls[a + 1 : b].count("check ok") for a, b in itertools.pairwise(steps)]
    assert all(n >= 2 for n in dwell_checks), db.calls  # one in the dwell (2s / 1s), one before the next step
    assert result.schedule == "done: green has 100%" and result.health is not None and result.health.healthy
    assert db.calls[-1] == "contract"


async def test_unhealthy_check_returns_green_to_zero_and_waits_at_the_gate(fake: Fake) -> None:
    db = db_of(fake)
    db.health = [True, True, False]  # before step 1, during its dwell, then failing
    handle = await fake.start(**steps_options(step_seconds=30))
    await until(handle, lambda s: s.waiting_for == "contract")
    status = await status_of(handle)
    # the first failing check is answered by sending everyone back to blue, at once: no check, no step between
    failing = db.calls.index("check failing")
    assert db.calls[failing + 1 :] == ["shift 0"]
    assert db.shares == [0, 10, 0]
    assert status.green_percent == 0 and [c.by for c in status.shifts][-1] == "health check"
    assert status.health is not None and status.health.failing == "error rate 0.31"
    assert status.schedule == "stopped: health check failed (error rate 0.31)"
    checks = db.checks
    await asyncio.sleep(2.5)  # the schedule stopped: no more checks (over 2 intervals)
    assert db.checks == checks
    await shift(handle, 100)  # the operator's call; at 100% the soak (0s here) contracts
    assert (await handle.result()).phase == "complete"


async def test_unhealthy_check_rolls_back_when_asked(fake: Fake) -> None:
    db = db_of(fake)
    db.health = [True, False]  # healthy before step 1, failing in its dwell
    handle = await fake.start(**steps_options(step_seconds=30, on_unhealthy="rollback"))
    result = await handle.result()
    assert result.phase == "rolled_back" and result.rollback_reason == "health check failed: error rate 0.31"
    assert db.calls[-3:] == ["check failing", "shift 0", "rollback"]


async def test_unhealthy_before_the_first_step_sends_nobody_to_green(fake: Fake) -> None:
    db = db_of(fake)
    db.health = [False]
    handle = await fake.start(**steps_options())
    await until(handle, lambda s: s.waiting_for == "contract")
    assert db.shares == [0]  # green never got a client: nothing to send back
    await handle.execute_update(ROLLBACK, RollbackRequest(), result_type=str)
    assert (await handle.result()).phase == "rolled_back"


async def test_pause_holds_the_current_step(fake: Fake) -> None:
    db = db_of(fake)
    handle = await fake.start(**steps_options(canary_steps=[10, 100]))
    await until(handle, lambda s: s.green_percent == 10)
    await handle.execute_update(PAUSE, result_type=str)
    checks = db.checks
    while db.checks < checks + 4:  # 4 intervals of 1s: well past the 2s dwell, had its clock run
        await asyncio.sleep(0.05)
    assert db.shares == [0, 10]  # held: checks go on, the step does not advance
    await handle.execute_update(RESUME, result_type=str)
    result = await handle.result()
    assert result.phase == "complete" and db.shares == [0, 10, 100]


async def test_an_operator_shift_takes_over_from_the_schedule(fake: Fake) -> None:
    db = db_of(fake)
    handle = await fake.start(**steps_options(step_seconds=30))
    await until(handle, lambda s: s.green_percent == 10)
    answer = await shift(handle, 30)
    assert answer == "green has 30% of clients (was 10%); the scheduled steps stop: the operator drives from here"
    await until(handle, lambda s: s.waiting_for == "contract")
    status = await status_of(handle)
    assert status.schedule == "taken over by the operator" and db.shares == [0, 10, 30]
    checks = db.checks
    await asyncio.sleep(2.5)
    assert db.checks == checks  # the operator drives: no more scheduled checks or steps
    assert await shift(handle, 100) == "green has 100% of clients (was 30%)"
    result = await handle.result()  # the soak (0s) at 100%
    assert result.phase == "complete" and db.shares == [0, 10, 30, 100]


async def test_a_soak_does_not_contract_below_100(fake: Fake) -> None:
    db = db_of(fake)
    handle = await fake.start(auto_cutover=True, cutover_percent=50, soak_seconds=0.2)
    await until(handle, lambda s: s.waiting_for == "contract")
    status = await status_of(handle)
    assert status.contract_at is None  # no soak runs below 100%
    await asyncio.sleep(0.5)
    assert "contract" not in db.calls
    await shift(handle, 100)
    result = await handle.result()
    assert result.phase == "complete" and db.calls[-3:] == ["shift 100", "try_contract", "contract"]


async def test_shift_while_a_pause_holds_the_migration_after_cutover(fake: Fake) -> None:
    db = db_of(fake)
    cutover = db.hold("cutover")
    handle = await fake.start(auto_cutover=True, cutover_percent=20)
    await db.reached["cutover"].wait()
    await handle.execute_update(PAUSE, result_type=str)
    assert await refused(handle, SHIFT, ShiftRequest(percent=50)) == (
        "cannot shift: cutover is in progress (shift once the migration awaits contract)"
    )
    cutover.set()
    await until(handle, lambda s: s.green_percent == 20)  # applied; the pause holds the migration in cutover
    assert (await status_of(handle)).phase == "cutover"
    assert await shift(handle, 100) == "green has 100% of clients (was 20%)"
    await handle.execute_update(RESUME, result_type=str)
    await wait_for_phase(handle, "awaiting_contract", timeout=20)
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    assert (await handle.result()).phase == "complete" and db.shares == [20, 100]
