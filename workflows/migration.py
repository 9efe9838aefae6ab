"""MigrationWorkflow: one migration, walked through its phases durably (liveshift/lifecycle.py has them all).

    prepare -> expand -> backfill -> validate constraints -> verify -> cutover gate -> cutover
            -> scheduled steps (health-gated, optional) -> contract gate (at 100%: soak timer or approval) -> contract

Between cutover and contract an operator moves green's share up or down (`shift`); workflows/shifting.py
holds those rules.

Between phases the workflow holds while paused and honours a rollback request; during backfill and
at the gates a rollback request interrupts at once (backfill partitions stop at a batch boundary).
Cancelling the workflow through Temporal is a rollback request: before contract the database goes
back to its state before expand and the workflow ends cancelled; once contract has begun it cannot
be stopped halfway (contract is irreversible), so it finishes and the workflow ends complete.
Pause during backfill flips the `paused` flag of the migration record that every partition polls
before each batch, wherever it runs: the partitions stop within about one batch, keep heartbeating,
and continue from where they were on resume, without cancelling and rescheduling activities (which
would add history events and lose their in-memory throttle state) and without depending on the
worker that runs them being reachable by cancellation.

The operator's requests exist twice under one name, sharing their refusal (workflows/requests.py) and their
effect: an Update (validated: a refusal reaches the caller) and a signal (fire and forget: one that cannot apply
is ignored, and the status says why).

The workflow never touches the database: every effect is an activity naming a target, and the
worker resolves the target to a connection string.

What the workflow holds is one MigrationState (workflows/state.py); it runs phases through a PhaseRunner
(workflows/running.py) and green's share through a ShareControl (workflows/shifting.py). Every patch id it asks
is in workflows/patches.py.
"""

from __future__ import annotations

import asyncio
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.migration import MigrationActivities
    from liveshift.activities.payloads import (
        PROGRESS,
        BackfillInput,
        PartitionInput,
        PartitionResult,
        PrepareInput,
        ProgressReport,
        RehearseInput,
    )
    from liveshift.activities.rehearsal import RehearsalActivities
    from liveshift.lifecycle import Phase
    from liveshift.rehearsal.report import RehearsalReport
    from liveshift.workflows import progress, requests
    from liveshift.workflows.models import (
        APPROVE,
        PAUSE,
        RESUME,
        ROLLBACK,
        SHIFT,
        STATUS,
        WORKFLOW_NAME,
        ApproveRequest,
        MigrationInput,
        MigrationStatus,
        Prepared,
        RollbackRequest,
        ShiftRequest,
        TablePlan,
        VerifyReport,
        activity_target,
    )
    from liveshift.workflows.policies import (
        BACKFILL_RETRY,
        BACKFILL_TIMEOUT,
        HEARTBEAT_TIMEOUT,
        failure_type,
        is_non_retryable,
        message,
    )

from liveshift.workflows.patches import (
    CANCEL_ROLLS_BACK,
    CONTRACT_TRIED_FIRST,
    DRAIN_AFTER_UNCONFIRMED_CUTOVER,
    DRAIN_BEFORE_DROP,
    PROGRESS_IN_HEARTBEATS,
    REHEARSE_FIRST,
)
from liveshift.workflows.running import PhaseRunner, RollbackRequested
from liveshift.workflows.shifting import ShareControl
from liveshift.workflows.state import initial_state


@workflow.defn(name=WORKFLOW_NAME)
class MigrationWorkflow:
    @workflow.init
    def __init__(self, input: MigrationInput) -> None:
        self._state = initial_state(input)
        self._runner = PhaseRunner(self._state)
        self._shares = ShareControl(self._state, self._runner)

    @workflow.run
    async def run(self, input: MigrationInput) -> MigrationStatus:
        self._runner.publish()
        # The phases run in a task of their own that a Temporal cancellation does not reach: the cancellation
        # becomes a rollback request, honoured where one is (between phases, in backfill, at the gates), so
        # no step is abandoned halfway and contract always finishes.
        phases = asyncio.create_task(self._phases())
        while True:
            try:
                status = await asyncio.shield(phases)
                break
            except asyncio.CancelledError:
                if not workflow.patched(CANCEL_ROLLS_BACK):
                    phases.cancel()  # histories from before: the cancellation reaches the phase in flight
                    return await phases
                self._on_cancel(workflow.cancellation_reason())
        if self._state.cancelled and status.phase == Phase.ROLLED_BACK:
            raise CancelledError(f"rolled back: {status.rollback_reason}")  # ends the workflow cancelled
        return status

    async def _phases(self) -> MigrationStatus:
        try:
            await self._until_contract()
        except RollbackRequested:
            await self._roll_back(self._state.rollback_reason or "requested by operator")
            return await self._finish()
        except (ActivityError, ApplicationError) as err:
            if not is_non_retryable(err):
                raise
            reason = message(err)
            if self._state.prepared:
                await self._fail(reason, f"{reason} (rolled back)", roll_back=True)
            await self._fail(reason, reason, roll_back=False)

        self._runner.enter(Phase.CONTRACT)  # irreversible: a non-retryable failure here cannot be rolled back
        if workflow.patched(DRAIN_BEFORE_DROP):  # in contract: no shift can move clients back meanwhile
            await self._shares.drain(self._blue_label())
        try:
            await self._runner.activity(MigrationActivities.contract, self._runner.phase_input())
        except (ActivityError, ApplicationError) as err:
            await self._fail(message(err), f"contract failed: {message(err)}", roll_back=False)
        self._runner.enter(Phase.COMPLETE)
        return await self._finish()

    async def _until_contract(self) -> None:
        state, run = self._state, self._runner
        options = state.input.options
        if options.rehearse and workflow.patched(REHEARSE_FIRST):
            await self._rehearse()
        prepared: Prepared = await run.activity(
            MigrationActivities.prepare,
            PrepareInput(
                target=activity_target(state.input),
                migration=state.input.migration,
                file=state.input.file,
                lock=options.lock,
            ),
        )
        state.prepared = True
        state.status.tables = prepared.tables  # with the tables found in the catalog, for operators
        await run.between_phases()

        run.enter(Phase.EXPAND)
        await run.activity(MigrationActivities.expand, run.phase_input(), interruptible=True)
        await run.between_phases()

        run.enter(Phase.BACKFILL)
        if prepared.backfill_tables:
            await self._backfill()
        await run.between_phases()

        run.enter(Phase.VERIFY)
        await run.activity(MigrationActivities.validate_constraints, run.phase_input(), interruptible=True)
        report: VerifyReport = await run.activity(MigrationActivities.verify, run.phase_input(), interruptible=True)
        state.status.verify = report
        if not report.ok:
            raise ApplicationError(report.summary(), type="VerificationFailed", non_retryable=True)
        await run.between_phases()

        if not options.auto_cutover:
            run.enter(Phase.AWAITING_CUTOVER)
            await run.gate("cutover")
            await run.between_phases()

        run.enter(Phase.CUTOVER)
        percent = 0 if options.canary_steps else options.cutover_percent  # the steps move green from 0%
        await run.activity(MigrationActivities.cutover, run.phase_input(percent=percent), interruptible=True)
        self._shares.record_share(percent, "cutover")
        await run.between_phases()

        run.enter(Phase.AWAITING_CONTRACT)
        if options.canary_steps:
            await self._shares.walk_steps()
        await self._shares.contract_gate(options.soak_seconds)  # holds while paused, as between phases
        if workflow.patched(CONTRACT_TRIED_FIRST):
            while not await self._contract_tried():
                await self._shares.contract_gate(None)  # refused: the operator fixes the cause and approves again

    async def _contract_tried(self) -> bool:
        """Contract's statements tried in a rolled-back transaction; False (with the error in the status, the
        approval withdrawn) where contract would fail for good."""
        state, run = self._state, self._runner
        try:
            await run.activity(MigrationActivities.try_contract, run.phase_input(), interruptible=True)
        except ActivityError as err:
            if failure_type(err) != "ContractRefused":
                raise
            state.status.last_error = message(err)
            state.approved.discard("contract")
            run.publish_details()
            return False
        return True

    async def _rehearse(self) -> None:
        """The whole migration on a scratch clone first (an activity: only the worker knows the target's DSN); a
        failure ends the migration before prepare, so nothing touched the real tables."""
        state = self._state
        request = RehearseInput(
            target=activity_target(state.input), migration=state.input.migration, file=state.input.file
        )
        report: RehearsalReport = await self._runner.activity(RehearsalActivities.rehearse, request, interruptible=True)
        state.status.rehearsal = report
        self._runner.publish()
        if not report.ok:
            raise ApplicationError(report.summary(), type="RehearsalFailed", non_retryable=True)

    async def _fail(self, reason: str, outcome: str, roll_back: bool) -> NoReturn:
        """End on a failure no retry can fix: roll back first where that is still possible."""
        self._state.status.last_error = reason
        if roll_back:
            await self._roll_back(reason)
        else:
            self._runner.enter(Phase.FAILED)
        await self._finish()
        raise ApplicationError(outcome, type="MigrationFailed", non_retryable=True) from None

    async def _finish(self) -> MigrationStatus:
        self._state.status.waiting_for = None
        self._runner.publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state.status

    def _blue_label(self) -> str:
        return f"blue (before {self._state.input.migration.name})"

    async def _roll_back(self, reason: str) -> None:
        status = self._state.status
        status.rollback_reason = reason
        status.waiting_for = None
        # the cutover activity waits to retry: it may have committed, and clients may be on green already
        unconfirmed = status.phase == Phase.CUTOVER and status.green_percent is None
        self._runner.enter(Phase.ROLLING_BACK)
        took_traffic = status.green_percent is not None or (
            unconfirmed and workflow.patched(DRAIN_AFTER_UNCONFIRMED_CUTOVER)
        )
        if self._state.prepared and took_traffic and workflow.patched(DRAIN_BEFORE_DROP):
            # green took traffic (cutover recorded): everyone to blue, then keep green's views until drained
            await self._shares.send_to_blue(unconfirmed)
            await self._shares.drain(f"green ({self._state.input.migration.name})")
        if self._state.prepared:
            await self._runner.activity(MigrationActivities.rollback, self._runner.phase_input(reason=reason))
        status.paused = False
        self._runner.enter(Phase.ROLLED_BACK)

    # backfill

    async def _backfill(self) -> None:
        state = self._state
        request = BackfillInput(
            target=activity_target(state.input),
            migration=state.input.migration.name,
            parallelism=state.input.options.parallelism,
        )
        plans: list[TablePlan] = await self._runner.activity(
            MigrationActivities.plan_backfill, request, interruptible=True
        )
        state.totals = {p.table: p for p in plans}
        self._runner.refresh_progress()
        by_heartbeat = workflow.patched(PROGRESS_IN_HEARTBEATS)
        partitions = [self._start_partition(p.table, i, by_heartbeat) for p in plans for i in range(p.partitions)]
        if by_heartbeat:
            for t in partitions:
                t.add_done_callback(self._record_partition)
        await workflow.wait_condition(
            lambda: (
                all(t.done() for t in partitions)
                or any(t.done() and t.exception() is not None for t in partitions)
                or state.rollback_reason is not None
            )
        )
        if not all(t.done() for t in partitions):
            for t in partitions:
                t.cancel()
            await asyncio.gather(*partitions, return_exceptions=True)
        for t in partitions:
            exc = t.exception() if not t.cancelled() else None
            if exc is not None and not isinstance(getattr(exc, "cause", None), CancelledError):
                raise exc
        if state.rollback_reason is not None:
            raise RollbackRequested()
        for t in partitions:
            self._hold_result(t.result())
        self._runner.refresh_progress()

    def _hold_result(self, result: PartitionResult) -> None:
        p = result.progress
        report = ProgressReport(table=p.table, partition=p.partition, rows_done=p.rows_done, done=p.done)
        self._state.partitions[(p.table, p.partition)] = report
        if result.earlier_error:  # the partition retried: the status keeps why (the signal said so before)
            failed = report.model_copy(update={"error": result.earlier_error})
            self._state.status.last_error = progress.partition_error(failed)

    def _record_partition(self, task: asyncio.Task[PartitionResult]) -> None:
        """A partition finished: its result is the workflow's record of it (the rest still heartbeat theirs)."""
        if not task.cancelled() and task.exception() is None:
            self._hold_result(task.result())
            self._runner.refresh_progress()

    def _start_partition(
        self, table: str, partition: int, by_heartbeat: bool
    ) -> workflow.ActivityHandle[PartitionResult]:
        input = self._state.input
        return workflow.start_activity_method(
            MigrationActivities.backfill_partition,
            PartitionInput(
                target=activity_target(input),
                migration=input.migration.name,
                table=table,
                partition=partition,
                throttle=input.options.throttle,
                progress_interval_s=input.options.progress_interval_s,
                signal_progress=not by_heartbeat,  # a history from before PROGRESS_IN_HEARTBEATS: partitions signal
            ),
            start_to_close_timeout=BACKFILL_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=BACKFILL_RETRY,
            # on rollback, wait until the partition has stopped before undoing what it writes to
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )

    # what the operator's requests do (each handler below checks, then calls one of these)

    async def _pause(self) -> str:
        state = self._state
        state.status.paused = True  # the workflow holds before the next phase from now on
        self._runner.publish()
        async with state.flag_lock:
            if state.prepared:  # before that, no partition runs and the record may not exist yet
                await self._runner.activity(MigrationActivities.set_paused, self._runner.phase_input(paused=True))
        return f"paused in phase {state.status.phase}" + (
            ": backfill stops at the next batch boundary" if state.status.phase == Phase.BACKFILL else ""
        )

    async def _resume(self) -> str:
        state = self._state
        async with state.flag_lock:
            if state.prepared:
                await self._runner.activity(MigrationActivities.set_paused, self._runner.phase_input(paused=False))
        state.status.paused = False
        self._runner.publish()
        return f"resumed in phase {state.status.phase}"

    def _roll_back_on_request(self, request: RollbackRequest) -> str:
        self._state.rollback_reason = request.reason
        return f"rolling back from phase {self._state.status.phase}: {request.reason}"

    def _approve(self, request: ApproveRequest) -> str:
        self._state.approved.add(request.gate)
        return f"{request.gate} approved"

    def _on_cancel(self, reason: str | None) -> None:
        """A Temporal cancellation is a rollback request (refused, and noted, once contract has begun)."""
        state = self._state
        refusal = requests.refusal_of_cancellation(state.status)
        if refusal is not None:
            self._note(f"cancellation ignored: {refusal}")
            return
        state.cancelled = True
        if state.rollback_reason is None:  # an operator's rollback request already under way keeps its reason
            state.rollback_reason = "workflow cancelled through Temporal" + (f": {reason}" if reason else "")

    def _validate(self, request: str, gate: str = "") -> None:
        """An Update's validator: a refusal reaches the caller, and the Update never runs."""
        refusal = requests.refusal(request, self._state.status, gate)
        if refusal is not None:
            raise ApplicationError(refusal, type="RequestRefused", non_retryable=True)

    def _accepts_signal(self, request: str, gate: str = "") -> bool:
        """A signal's check: one that cannot apply is ignored, and the status says why."""
        refusal = requests.refusal(request, self._state.status, gate)
        if refusal is not None:
            self._note(f"{request} signal ignored: {refusal}")
        return refusal is None

    def _note(self, error: str) -> None:
        self._state.status.last_error = error
        self._runner.publish_details()

    # handlers: the status query, the legacy progress signal, and each request twice under one name

    @workflow.query(name=STATUS)
    def status(self) -> MigrationStatus:
        return self._state.status

    @workflow.signal(name=PROGRESS)
    def on_progress(self, report: ProgressReport) -> None:
        """Only partitions of a history from before PROGRESS_IN_HEARTBEATS signal (workflows/patches.py)."""
        state = self._state
        if state.status.phase != Phase.BACKFILL:
            return  # a late report from a partition that already finished
        state.partitions[(report.table, report.partition)] = report
        error = progress.partition_error(report)
        if error:
            state.status.last_error = error
        self._runner.refresh_progress()

    @workflow.update(name=PAUSE)
    async def pause_update(self) -> str:
        return await self._pause()

    @pause_update.validator
    def _validate_pause(self) -> None:
        self._validate(PAUSE)

    @workflow.signal(name=PAUSE)
    async def pause_signal(self) -> None:
        if self._accepts_signal(PAUSE):
            await self._pause()

    @workflow.update(name=RESUME)
    async def resume_update(self) -> str:
        return await self._resume()

    @resume_update.validator
    def _validate_resume(self) -> None:
        self._validate(RESUME)

    @workflow.signal(name=RESUME)
    async def resume_signal(self) -> None:
        if self._accepts_signal(RESUME):
            await self._resume()

    @workflow.update(name=ROLLBACK)
    def rollback_update(self, request: RollbackRequest) -> str:
        return self._roll_back_on_request(request)

    @rollback_update.validator
    def _validate_rollback(self, request: RollbackRequest) -> None:
        self._validate(ROLLBACK)

    @workflow.signal(name=ROLLBACK)
    def rollback_signal(self, request: RollbackRequest) -> None:
        if self._accepts_signal(ROLLBACK):
            self._roll_back_on_request(request)

    @workflow.update(name=APPROVE)
    def approve_update(self, request: ApproveRequest) -> str:
        return self._approve(request)

    @approve_update.validator
    def _validate_approve(self, request: ApproveRequest) -> None:
        self._validate(APPROVE, request.gate)

    @workflow.signal(name=APPROVE)
    def approve_signal(self, request: ApproveRequest) -> None:
        if self._state.legacy_contract:  # a history from before FULL_SHARE_BEFORE_CONTRACT: contract at any share
            if requests.refusal_of_approval(self._state.status, request.gate, needs_full_share=False) is None:
                self._approve(request)
        elif self._accepts_signal(APPROVE, request.gate):
            self._approve(request)

    @workflow.update(name=SHIFT)
    async def shift_update(self, request: ShiftRequest) -> str:
        return await self._shares.shift(request)

    @shift_update.validator
    def _validate_shift(self, request: ShiftRequest) -> None:
        self._validate(SHIFT)

    @workflow.signal(name=SHIFT)
    async def shift_signal(self, request: ShiftRequest) -> None:
        if self._accepts_signal(SHIFT):
            await self._shares.shift(request)
