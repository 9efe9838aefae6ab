"""Green's share of clients between cutover and contract: operator shifts, scheduled steps, health gates, and the
contract gate that waits for 100%.

Rules (docs/design.md, "Progressive shifting"):
- cutover sends `cutover_percent` of clients to green, or 0% when steps are scheduled;
- scheduled steps: before each step, and every `health_interval_s` of its dwell, the health check runs; a failed
  check sends everyone back to blue (0%) at once, then the workflow waits at the contract gate with the failing
  value in its status, or rolls back (`on_unhealthy`). A pause holds the dwell's clock (checks go on);
- an operator's shift takes over: the schedule stops where it is and the operator drives from then on;
- contract needs 100%: an approval is refused below it, a shift below it withdraws one, and a soak counts from
  the moment green reached 100% (it waits while green has less).

ShareControl is a helper MigrationWorkflow owns: it reads and writes the workflow's one MigrationState and runs
its activities and holds through the workflow's PhaseRunner.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.migration import MigrationActivities
    from liveshift.activities.payloads import HealthInput
    from liveshift.workflows.models import HealthResult, HealthStatus, ShareChange, ShiftRequest, activity_target
    from liveshift.workflows.policies import message

from liveshift.workflows.patches import FULL_SHARE_BEFORE_CONTRACT
from liveshift.workflows.running import PhaseRunner, RollbackRequested
from liveshift.workflows.state import MigrationState

HEALTH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
# the smallest wait a dwell schedules: what is left of it after a timer fired is rounding, not time
TICK_S = 0.001


class ShareControl:
    def __init__(self, state: MigrationState, runner: PhaseRunner) -> None:
        self._state = state
        self._runner = runner

    def record_share(self, percent: int, by: str) -> None:
        self._state.status.green_percent = percent
        self._state.status.shifts.append(ShareChange(percent=percent, at=workflow.now(), by=by))  # type: ignore[arg-type]
        self._runner.publish_details()

    async def shift(self, request: ShiftRequest) -> str:
        """An operator's shift: it takes over from the schedule, and below 100% it withdraws a contract approval."""
        state = self._state
        before = state.status.green_percent
        took_over = state.walking and not state.taken_over
        state.taken_over = True  # from now on the operator drives (a schedule stops where it is)
        if request.percent < 100:
            state.approved.discard("contract")  # contract needs 100%: an earlier approval no longer holds
        await self._apply_share(request.percent, "operator")
        return f"green has {request.percent}% of clients (was {before}%)" + (
            "; the scheduled steps stop: the operator drives from here" if took_over else ""
        )

    def _full(self) -> bool:
        return self._state.status.green_percent == 100 and not self._state.shift_lock.locked()

    async def _apply_share(self, percent: int, by: str, interruptible: bool = False) -> None:
        async with self._state.shift_lock:
            if by == "schedule" and self._state.taken_over:
                return  # the operator's shift, asked for meanwhile, decides
            await self._runner.activity(
                MigrationActivities.shift, self._runner.phase_input(percent=percent), interruptible
            )
            self.record_share(percent, by)

    # scheduled steps

    def _interrupted(self) -> bool:
        return self._state.taken_over or self._state.rollback_reason is not None

    async def walk_steps(self) -> None:
        """Walk the scheduled steps; returns when they are done or stopped (unhealthy, taken over)."""
        state = self._state
        options = state.input.options
        assert options.step_seconds is not None  # MigrationOptions: steps come with their dwell
        steps = options.canary_steps
        state.walking = True
        for number, percent in enumerate(steps, start=1):
            await workflow.wait_condition(lambda: not state.status.paused or self._interrupted())
            if self._interrupted() or not await self._healthy():
                break
            state.status.schedule = f"step {number}/{len(steps)}: {percent}%"
            await self._apply_share(percent, "schedule", interruptible=True)
            if self._interrupted() or not await self._dwell(options.step_seconds):
                break
        else:
            state.status.schedule = f"done: green has {steps[-1]}%"
        state.walking = False
        if state.taken_over:
            state.status.schedule = "taken over by the operator"
        self._runner.publish_details()
        if state.rollback_reason is not None:
            raise RollbackRequested()

    async def _dwell(self, seconds: float) -> bool:
        """Stay at this step for `seconds` of unpaused time, checking health every interval; False when stopped."""
        status = self._state.status
        interval = self._state.input.options.health_interval_s
        left, since_check = seconds, 0.0
        while True:
            paused = status.paused
            wait = interval - since_check if paused else min(interval - since_check, left)
            started = workflow.now()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._interrupted() or status.paused != paused,  # noqa: B023
                    timeout=max(wait, TICK_S),
                    timeout_summary="step dwell",
                )
            elapsed = (workflow.now() - started).total_seconds()
            since_check += elapsed
            left -= 0 if paused else elapsed
            if self._interrupted():
                return False
            if left <= TICK_S:
                return True
            if since_check >= interval - TICK_S:
                since_check = 0.0
                if not await self._healthy():
                    return False

    async def _healthy(self) -> bool:
        """Evaluate the health check (healthy without one); on failure send everyone to blue, then wait or roll back."""
        input = self._state.input
        check = input.options.health
        if check is None:
            return True
        try:
            result: HealthResult = await workflow.execute_activity_method(
                MigrationActivities.check_health,
                HealthInput(target=activity_target(input), migration=input.migration.name, check=check),
                start_to_close_timeout=timedelta(seconds=check.timeout_s + 10),
                retry_policy=HEALTH_RETRY,
            )
        except ActivityError as err:
            result = HealthResult(healthy=False, value=f"check failed: {message(err)}")
        self._note_health(result)
        if result.healthy:
            return True
        await self._on_unhealthy(result)
        return False

    def _note_health(self, result: HealthResult) -> None:
        previous = self._state.status.health
        self._state.status.health = HealthStatus(
            healthy=result.healthy,
            value=result.value,
            at=workflow.now(),
            checks=(previous.checks if previous else 0) + 1,
            failing=None if result.healthy else result.value,
        )
        self._runner.publish_details()

    async def _on_unhealthy(self, result: HealthResult) -> None:
        state = self._state
        if state.taken_over:
            return  # the operator drives now
        state.status.schedule = f"stopped: health check failed ({result.value})"
        if state.status.green_percent != 0:
            await self._apply_share(0, "health check")
        if state.input.options.on_unhealthy == "rollback" and state.rollback_reason is None:
            state.rollback_reason = f"health check failed: {result.value}"

    # drain before drop

    async def send_to_blue(self, unconfirmed: bool = False) -> None:
        """Rollback after cutover: every client back to blue first (green's views stay until drained). An
        `unconfirmed` cutover (its answer lost) may have moved clients: they are sent back all the same."""
        if unconfirmed or self._state.status.green_percent not in (None, 0):
            await self._apply_share(0, "rollback")

    async def drain(self, version: str) -> None:
        """Hold until `version`'s clients have drained: `drain_seconds` after the last share change (a durable
        timer), so a client that read the flag, or a request that holds its version, is done with it."""
        status = self._state.status
        seconds = self._state.input.options.drain_seconds
        since = status.shifts[-1].at if status.shifts else workflow.now()
        until = since + timedelta(seconds=seconds)
        remaining = (until - workflow.now()).total_seconds()
        if remaining <= 0:
            return
        status.draining = f"{version}: its views are kept until {seconds:g}s after the last share change"
        status.drain_until = until
        self._runner.publish()
        await workflow.sleep(remaining, summary="drain before drop")
        status.draining = None
        status.drain_until = None
        self._runner.publish()

    # contract gate

    async def contract_gate(self, soak_seconds: float | None) -> None:
        """Wait for approval of contract at 100% (or a soak at 100%); a shift below 100% holds it again."""
        if self._state.status.green_percent != 100 and not workflow.patched(FULL_SHARE_BEFORE_CONTRACT):
            self._state.legacy_contract = True
            await self._runner.gate("contract", soak_seconds)
            await self._runner.between_phases()
            return
        while True:
            await self._wait_at_contract_gate(soak_seconds)
            await self._runner.between_phases()
            if self._full():
                return

    async def _wait_at_contract_gate(self, soak_seconds: float | None) -> None:
        state = self._state
        state.status.waiting_for = "contract"
        if soak_seconds is not None:
            state.status.contract_at = workflow.now() + timedelta(seconds=soak_seconds) if self._full() else None
        self._runner.publish()
        approved = lambda: ("contract" in state.approved and self._full()) or state.rollback_reason is not None  # noqa: E731
        if soak_seconds is None:
            await workflow.wait_condition(approved)
        else:
            await self._soak(soak_seconds, approved)
        state.status.waiting_for = None

    async def _soak(self, soak_seconds: float, approved: Callable[[], bool]) -> None:
        """The soak counts from when green reached 100% (it restarts after a shift below 100%)."""
        status = self._state.status
        while not approved():
            if not self._full():
                status.contract_at = None
                self._runner.publish_details()
                await workflow.wait_condition(lambda: approved() or self._full())
                continue
            if status.contract_at is None:
                status.contract_at = workflow.now() + timedelta(seconds=soak_seconds)
                self._runner.publish_details()
            remaining = (status.contract_at - workflow.now()).total_seconds()
            if remaining <= 0:
                return
            try:
                await workflow.wait_condition(
                    lambda: approved() or not self._full(), timeout=remaining, timeout_summary="contract soak"
                )
            except TimeoutError:
                if self._full():
                    return
