"""FleetWorkflow: one migration rolled across a fleet's members in waves, one child MigrationWorkflow per member.

    resolve members (activity) -> for each wave: gate (health check, approval) -> members, at most
    max_concurrency in flight -> [one flip: all at their cutover gate -> approval -> cutover all -> contract all]

Each member's migration is the ordinary MigrationWorkflow (its id the one `liveshift start` would give it), which
reports each phase it enters to the fleet (MEMBER_PHASE). A failed member counts against the failure budget; one
failure past it halts the rollout: no member starts, the members in flight finish or roll back (`on_halt`), and
the rollout waits for the operator: retry the failed members, resume (accepting the failures), or roll back every
member not yet contracted. A rollout that ends its waves with failed members (within the budget) halts the same
way, so a retry can still complete it. Pause holds new members and pauses those in flight.

The history stays bounded: between waves, with no member in flight, a run past `history_limit` events continues
as new, carrying its status. A worker that dies resumes the parent and every child where they were: a child
started is never started twice (its id is derived from the member), a child finished is recorded once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from liveshift import metrics
    from liveshift.activities.fleet import FleetActivities
    from liveshift.activities.migration import MigrationActivities
    from liveshift.activities.payloads import HealthInput, ResolveInput
    from liveshift.fleet.members import Member
    from liveshift.health import HealthResult
    from liveshift.lifecycle import Phase
    from liveshift.workflows.directory import child_outcome, failure_message
    from liveshift.workflows.fleet_models import (
        END_STATES,
        FLEET_STATUS,
        FLEET_WORKFLOW,
        HALT,
        RETRY,
        FleetApprove,
        FleetInput,
        FleetRollback,
        FleetStatus,
        MemberStatus,
        member_address,
        member_migration,
    )
    from liveshift.workflows.fleet_waves import plan_waves, render
    from liveshift.workflows.models import (
        APPROVE,
        MEMBER_PHASE,
        PAUSE,
        RESUME,
        ROLLBACK,
        WORKFLOW_NAME,
        ApproveRequest,
        MemberPhase,
        MigrationInput,
        MigrationStatus,
        RollbackRequest,
        summary,
    )
    from liveshift.workflows.models import workflow_id as migration_workflow_id

STEP_TIMEOUT = timedelta(minutes=2)
RESOLVE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), non_retryable_error_types=["SpecError"])
HEALTH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)


@workflow.defn(name=FLEET_WORKFLOW)
class FleetWorkflow:
    @workflow.init
    def __init__(self, input: FleetInput) -> None:
        self._input = input
        wid = workflow.info().workflow_id
        if input.carried is not None:  # a continued run: the status it carries, one run more
            self._status = input.carried.model_copy(update={"workflow_id": wid, "runs": input.carried.runs + 1})
        else:
            self._status = FleetStatus(workflow_id=wid, name=input.name, migration=input.migration.name)
        self._children: dict[str, workflow.ChildWorkflowHandle[Any, MigrationStatus]] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._halt_reason: str | None = None
        self._rollback_reason: str | None = None
        self._approved: set[str] = set()
        self._retry = False
        self._resume = False
        self._shown: tuple[str, bool] | None = None  # the state and pause flag in the memo
        self._sending: asyncio.Task[None] | None = None  # rollback requests a halt sends to the members in flight

    @workflow.run
    async def run(self, input: FleetInput) -> FleetStatus:
        status = self._status
        if not status.members:
            await self._resolve(input)
        while status.state not in END_STATES:
            if status.wave < len(status.waves):
                await self._wave()
            elif input.one_flip and self._in_flight and not self._stopping():
                await self._flip()
            elif not self._stopping() and (failed := self._unaccepted_failures()):
                self._halt(f"{failed} members failed: retry them, resume to accept, or roll back")
            if self._rollback_reason is not None:
                await self._roll_back_all()
            elif self._halt_reason is not None:
                await self._halted()
            elif status.wave >= len(status.waves) and not self._in_flight:
                status.state = "complete"
            self._publish()
            await self._continue_as_new_if_long()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    # members and waves

    async def _resolve(self, input: FleetInput) -> None:
        members = input.members
        if not members:
            members = await workflow.execute_activity_method(
                FleetActivities.resolve_members,
                ResolveInput(fleet=input.fleet, selector=input.selector),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RESOLVE_RETRY,
            )
        self._status.members = [MemberStatus(member=m) for m in members]
        self._status.waves = plan_waves(members, input.waves)
        self._status.state = "running"
        self._publish()

    async def _wave(self) -> None:
        """Gate the wave, then start its pending members, at most max_concurrency busy; until they settle."""
        status = self._status
        await self._gate()
        if self._stopping():
            return
        pending = [k for k in status.waves[status.wave] if status.member(k).state == "pending"]
        for key in pending:
            await workflow.wait_condition(
                lambda: self._stopping() or (not status.paused and self._busy() < self._input.waves.max_concurrency)
            )
            if self._stopping():
                break
            self._start(key)
        await workflow.wait_condition(self._settled)
        if not self._stopping():
            status.wave += 1

    async def _gate(self) -> None:
        """Before each wave after the first: the health check (unhealthy halts), then the approval if asked."""
        status, waves = self._status, self._input.waves
        if status.wave == 0 or status.wave <= status.gated:
            return
        if waves.health is not None:
            result = await self._check_health()
            status.health = result
            if not result.healthy:
                self._halt(f"health check before wave {status.wave + 1}: {result.value}")
                return
        if waves.approve:
            status.state = "awaiting_approval"
            self._publish()
            await workflow.wait_condition(lambda: "wave" in self._approved or self._stopping())
            self._approved.discard("wave")
            status.state = "running"
        if not self._stopping():
            status.gated = status.wave
        self._publish()

    async def _check_health(self) -> HealthResult:
        """Evaluated once, on the first member of the wave just done (SQL there; PromQL from the worker)."""
        check = self._input.waves.health
        assert check is not None
        member = self._status.member(self._status.waves[self._status.wave - 1][0]).member
        request = HealthInput(target=member_address(member), migration=self._input.migration.name, check=check)
        try:
            return await workflow.execute_activity_method(
                MigrationActivities.check_health,
                request,
                start_to_close_timeout=timedelta(seconds=check.timeout_s + 10),
                retry_policy=HEALTH_RETRY,
            )
        except ActivityError as err:
            return HealthResult(healthy=False, value=f"check failed: {failure_message(err)}")

    def _busy(self) -> int:
        """Members in flight that still work (with one flip, one waiting at its cutover gate is not busy)."""
        return sum(1 for k in self._in_flight if not self._at_gate(k))

    def _at_gate(self, key: str) -> bool:
        return self._input.one_flip and self._status.member(key).phase == Phase.AWAITING_CUTOVER

    def _settled(self) -> bool:
        return self._busy() == 0

    def _stopping(self) -> bool:
        return self._halt_reason is not None or self._rollback_reason is not None

    def _unaccepted_failures(self) -> int:
        return self._status.summary()["failed"] - self._status.accepted_failures

    # one member's migration

    def _child_input(self, member: Member) -> MigrationInput:
        options = self._input.options
        if self._input.one_flip:  # the fleet approves every member's gates, all at once
            options = options.model_copy(update={"auto_cutover": False, "soak_seconds": None})
        return MigrationInput(
            target=member.target,
            database=member.database,
            member=member.key,
            migration=member_migration(self._input.migration, member),
            options=options,
            file=self._input.file,
        )

    def _start(self, key: str) -> None:
        state = self._status.member(key)
        request = self._child_input(state.member)
        address = member_address(state.member)
        state.state, state.phase, state.reason = "running", None, None
        state.workflow_id = migration_workflow_id(address, request.migration)
        state.attempts += 1
        self._in_flight[key] = asyncio.create_task(self._child(state, request))
        self._publish()

    async def _child(self, state: MemberStatus, request: MigrationInput) -> None:
        key = state.member.key
        try:
            assert state.workflow_id is not None
            handle = await workflow.start_child_workflow(
                WORKFLOW_NAME,
                request,
                id=state.workflow_id,
                result_type=MigrationStatus,
                # the fleet ending (terminated, timed out) asks its members in flight to roll back
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"fleet {self._input.name}, member {key}: " + summary(request),
            )
            self._children[key] = handle
            if self._rollback_reason is not None or (self._halt_reason and self._input.on_halt == "rollback"):
                await self._signal(key, ROLLBACK, RollbackRequest(reason=self._rollback_reason or "fleet halted"))
            result = await handle
            state.phase = result.phase  # its own report of the last phase may arrive after its end
            outcome, reason = ("complete", None) if result.phase == Phase.COMPLETE else ("failed", result.last_error)
        except WorkflowAlreadyStartedError:
            outcome, reason = "failed", f"a migration of these tables is already running (workflow {state.workflow_id})"
        except ChildWorkflowError as err:
            outcome, reason = child_outcome(err, None)
            outcome = "rolled_back" if self._rollback_reason or outcome == "rolled_back" else "failed"
        finally:
            self._in_flight.pop(key, None)
            self._children.pop(key, None)
        state.state, state.reason = outcome, reason  # type: ignore[assignment]
        if outcome != "complete" and self._rollback_reason is None:
            state.state = "failed"
            if self._unaccepted_failures() > self._input.failure_budget and self._halt_reason is None:
                self._halt(f"member {key} failed: {reason}")
        self._publish()

    async def _signal(self, key: str, name: str, arg: Any = None) -> None:
        handle = self._children.get(key)
        if handle is None:
            return
        # a member that ended meanwhile (its end not yet seen here) cannot be signalled: nothing to ask of it
        with contextlib.suppress(FailureError):
            await (handle.signal(name) if arg is None else handle.signal(name, arg))

    async def _signal_all(self, name: str, arg: Any = None, keys: list[str] | None = None) -> None:
        targets = keys if keys is not None else list(self._children)
        await asyncio.gather(*(self._signal(k, name, arg) for k in targets))

    # halting, rolling back, the one flip

    def _halt(self, reason: str) -> None:
        self._halt_reason = reason
        self._status.reason = reason
        if self._input.on_halt == "rollback":
            request = RollbackRequest(reason=f"fleet halted: {reason}")
            self._sending = asyncio.create_task(self._signal_all(ROLLBACK, request))  # now: the halt is synchronous
        self._publish()

    async def _halted(self) -> None:
        """Members in flight settled: wait for retry, resume or rollback."""
        status = self._status
        await workflow.wait_condition(self._settled)
        status.state = "halted"
        self._publish()
        await workflow.wait_condition(lambda: self._retry or self._resume or self._rollback_reason is not None)
        if self._rollback_reason is not None:
            return
        if self._retry:
            failed = [m for m in status.members if m.state in ("failed", "rolled_back")]
            for m in failed:
                m.state = "pending"
            keys = {m.member.key for m in failed}
            status.wave = min((i for i, w in enumerate(status.waves) if keys & set(w)), default=status.wave)
            status.accepted_failures = 0
        else:  # resume: the failures so far are accepted, and the wave's gate is passed
            status.accepted_failures = status.summary()["failed"]
            status.gated = max(status.gated, status.wave)
        self._retry = self._resume = False
        self._halt_reason, status.reason, status.state = None, None, "running"

    async def _roll_back_all(self) -> None:
        """Every member not yet contracted goes back: those in flight are asked to roll back; none starts."""
        status = self._status
        status.state, status.reason = "rolling_back", self._rollback_reason
        self._publish()
        await self._signal_all(ROLLBACK, RollbackRequest(reason=f"fleet rollback: {self._rollback_reason}"))
        await workflow.wait_condition(lambda: not self._in_flight)
        status.state = "rolled_back"

    async def _flip(self) -> None:
        """Every member waits at its cutover gate: one approval cuts all over; once all wait at their contract
        gate, they contract. A member that cannot flip sends every member back (none has contracted)."""
        status = self._status
        status.state = "awaiting_flip"
        self._publish()
        await workflow.wait_condition(lambda: "flip" in self._approved or self._stopping())
        if self._stopping():
            return
        status.state = "running"
        flipping = list(self._in_flight)
        await self._signal_all(APPROVE, ApproveRequest(gate="cutover"), flipping)
        await workflow.wait_condition(
            lambda: (
                self._rollback_reason is not None
                or all(k not in self._in_flight or status.member(k).phase == Phase.AWAITING_CONTRACT for k in flipping)
            )
        )
        if failed := [k for k in flipping if status.member(k).state != "running"]:
            self._rollback_reason = f"member {failed[0]} could not flip: {status.member(failed[0]).reason}"
            return
        if self._rollback_reason is None:
            await self._signal_all(APPROVE, ApproveRequest(gate="contract"), flipping)
            await workflow.wait_condition(lambda: not self._in_flight or self._rollback_reason is not None)

    async def _continue_as_new_if_long(self) -> None:
        if (
            self._status.state not in END_STATES
            and not self._in_flight
            and workflow.info().get_current_history_length() > self._input.history_limit
        ):
            await workflow.wait_condition(workflow.all_handlers_finished)  # no request is cut off
            workflow.continue_as_new(self._input.model_copy(update={"carried": self._status}))

    # status: the query, the Temporal UI, this worker's gauges

    def _publish(self) -> None:
        """The UI's current details (no event) on every change; the memo (an event) when the state changes.
        The search attributes (migration, tables) are the client's, set at start."""
        s = self._status
        if (s.state, s.paused) != self._shown:
            self._shown = (s.state, s.paused)
            workflow.upsert_memo({"state": s.state, "paused": s.paused})
        workflow.set_current_details(render(s))
        if not workflow.unsafe.is_replaying():  # this worker's view, once: a replay has reported it before
            metrics.set_fleet_members(s.name, s.summary())

    @workflow.query(name=FLEET_STATUS)
    def status(self) -> FleetStatus:
        return self._status

    @workflow.signal(name=MEMBER_PHASE)
    def member_phase(self, report: MemberPhase) -> None:
        member = next((m for m in self._status.members if m.member.key == report.member), None)
        if member is not None and member.state == "running":
            member.phase = report.phase
            workflow.set_current_details(render(self._status))

    # the operator's requests: each an Update (its validator's refusal reaches the caller) and a signal of the same
    # name (fire and forget: one that cannot apply is ignored, and the status notes why)

    def _refusal(self, request: str, gate: str = "") -> str | None:
        """Why `request` cannot apply now; None when it can."""
        s, ended = self._status, self._status.state in END_STATES
        failed = s.summary()["failed"]
        ok = {
            PAUSE: not ended and not s.paused,
            RESUME: s.paused or s.state == "halted",
            HALT: not ended and not self._stopping(),
            ROLLBACK: not ended and self._rollback_reason is None,
            RETRY: s.state == "halted" and failed > 0,
            APPROVE: {"awaiting_approval": "wave", "awaiting_flip": "flip"}.get(s.state) == gate,
        }[request]
        if ok:
            return None
        if request == RESUME:
            return f"the rollout is {s.state}, neither paused nor halted"
        if request == RETRY:
            return f"the rollout is {s.state} with {failed} failed"
        if request == APPROVE:
            return f"the rollout is {s.state}, not awaiting {gate}"
        return f"cannot {request.replace('rollback', 'roll back')}: the rollout is {s.state}" + (
            " and paused" if s.paused else ""
        )

    def _validate(self, request: str, gate: str = "") -> None:
        if (refusal := self._refusal(request, gate)) is not None:  # the Update never runs; the caller reads why
            raise ApplicationError(refusal, type="RequestRefused", non_retryable=True)

    def _accepts(self, request: str, gate: str = "") -> bool:
        if (refusal := self._refusal(request, gate)) is not None:
            self._status.note = f"{request} signal ignored: {refusal}"
            self._publish()
        return refusal is None

    async def _pause(self) -> str:
        self._status.paused = True
        self._publish()
        await self._signal_all(PAUSE)
        return f"paused: no member starts; {len(self._children)} in flight paused"

    async def _resume_now(self) -> str:
        if self._status.paused:
            self._status.paused = False
            self._publish()
            await self._signal_all(RESUME)
            return "resumed"
        self._resume = True
        return "resumed: the failures so far are accepted"

    def _halt_now(self, request: FleetRollback) -> str:
        self._halt(f"halted by operator: {request.reason}")
        return f"halting: members in flight {'roll back' if self._input.on_halt == 'rollback' else 'finish'}"

    def _roll_back_now(self, request: FleetRollback) -> str:
        self._rollback_reason = request.reason
        return f"rolling back every member not yet contracted: {request.reason}"

    def _retry_now(self) -> str:
        self._retry = True
        return f"retrying {self._status.summary()['failed']} failed members"

    def _approve(self, request: FleetApprove) -> str:
        self._approved.add(request.gate)
        return f"{request.gate} approved"

    @workflow.update(name=PAUSE)
    async def pause(self) -> str:
        return await self._pause()

    @pause.validator
    def _validate_pause(self) -> None:
        self._validate(PAUSE)

    @workflow.signal(name=PAUSE)
    async def pause_signal(self) -> None:
        if self._accepts(PAUSE):
            await self._pause()

    @workflow.update(name=RESUME)
    async def resume(self) -> str:
        return await self._resume_now()

    @resume.validator
    def _validate_resume(self) -> None:
        self._validate(RESUME)

    @workflow.signal(name=RESUME)
    async def resume_signal(self) -> None:
        if self._accepts(RESUME):
            await self._resume_now()

    @workflow.update(name=HALT)
    def halt(self, request: FleetRollback) -> str:
        return self._halt_now(request)

    @halt.validator
    def _validate_halt(self, request: FleetRollback) -> None:
        self._validate(HALT)

    @workflow.signal(name=HALT)
    def halt_signal(self, request: FleetRollback) -> None:
        if self._accepts(HALT):
            self._halt_now(request)

    @workflow.update(name=ROLLBACK)
    def rollback(self, request: FleetRollback) -> str:
        return self._roll_back_now(request)

    @rollback.validator
    def _validate_rollback(self, request: FleetRollback) -> None:
        self._validate(ROLLBACK)

    @workflow.signal(name=ROLLBACK)
    def rollback_signal(self, request: FleetRollback) -> None:
        if self._accepts(ROLLBACK):
            self._roll_back_now(request)

    @workflow.update(name=RETRY)
    def retry(self) -> str:
        return self._retry_now()

    @retry.validator
    def _validate_retry(self) -> None:
        self._validate(RETRY)

    @workflow.signal(name=RETRY)
    def retry_signal(self) -> None:
        if self._accepts(RETRY):
            self._retry_now()

    @workflow.update(name=APPROVE)
    def approve(self, request: FleetApprove) -> str:
        return self._approve(request)

    @approve.validator
    def _validate_approve(self, request: FleetApprove) -> None:
        self._validate(APPROVE, request.gate)

    @workflow.signal(name=APPROVE)
    def approve_signal(self, request: FleetApprove) -> None:
        if self._accepts(APPROVE, request.gate):
            self._approve(request)
