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

The workflow never touches the database: every effect is an activity naming a target, and the
worker resolves the target to a connection string.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.migration import MigrationActivities
    from liveshift.activities.payloads import (
        BackfillInput,
        PartitionInput,
        PartitionResult,
        PrepareInput,
        ProgressReport,
    )
    from liveshift.lifecycle import Phase
    from liveshift.workflows import progress
    from liveshift.workflows.models import (
        WORKFLOW_NAME,
        MigrationInput,
        MigrationStatus,
        PhaseTransition,
        Prepared,
        TablePlan,
        VerifyReport,
    )
    from liveshift.workflows.policies import (
        BACKFILL_RETRY,
        BACKFILL_TIMEOUT,
        HEARTBEAT_TIMEOUT,
        is_non_retryable,
        message,
    )

from liveshift.workflows.base import RollbackRequested
from liveshift.workflows.handlers import OperatorHandlers

# patch id: a Temporal cancellation becomes a rollback request (before it, it interrupted the phase in flight)
CANCEL_ROLLS_BACK = "cancel-rolls-back"
# patch id: backfill partitions report progress in their heartbeat details, not by signal (a signal every
# progress interval made the history grow with the backfill's duration), and the workflow records each
# partition's result as it finishes
PROGRESS_IN_HEARTBEATS = "progress-in-heartbeats"


@workflow.defn(name=WORKFLOW_NAME)
class MigrationWorkflow(OperatorHandlers):
    @workflow.init
    def __init__(self, input: MigrationInput) -> None:
        self._input = input
        self._status = MigrationStatus(
            workflow_id=workflow.info().workflow_id,
            migration=input.migration.name,
            target=input.target,
            schema_name=input.migration.schema_name,
            tables=input.migration.tables(),
            phase=Phase.STARTING,
            transitions=[PhaseTransition(phase=Phase.STARTING, at=workflow.now())],
        )
        # what each of these means: MigrationWorkflowBase
        self._prepared = False
        self._rollback_reason = None
        self._cancelled = False
        self._approved = set()
        self._partitions = {}
        self._totals = {}
        self._flag_lock = asyncio.Lock()
        self._shift_lock = asyncio.Lock()
        self._taken_over = False
        self._walking = False
        self._legacy_contract = False

    @workflow.run
    async def run(self, input: MigrationInput) -> MigrationStatus:
        self._publish()
        # The phases run in a task of their own that a Temporal cancellation does not reach: the cancellation
        # becomes a rollback request, honoured where one is (between phases, in backfill, at the gates), so
        # no step is abandoned halfway and contract always finishes.
        phases = asyncio.create_task(self._run())
        while True:
            try:
                status = await asyncio.shield(phases)
                break
            except asyncio.CancelledError:
                if not workflow.patched(CANCEL_ROLLS_BACK):
                    phases.cancel()  # histories from before: the cancellation reaches the phase in flight
                    return await phases
                self._on_cancel(workflow.cancellation_reason())
        if self._cancelled and status.phase == Phase.ROLLED_BACK:
            raise CancelledError(f"rolled back: {status.rollback_reason}")  # ends the workflow cancelled
        return status

    async def _run(self) -> MigrationStatus:
        try:
            await self._until_contract()
        except RollbackRequested:
            await self._roll_back(self._rollback_reason or "requested by operator")
            return await self._finish()
        except (ActivityError, ApplicationError) as err:
            if not is_non_retryable(err):
                raise
            reason = message(err)
            if self._prepared:
                await self._fail(reason, f"{reason} (rolled back)", roll_back=True)
            await self._fail(reason, reason, roll_back=False)

        self._enter(Phase.CONTRACT)  # irreversible: a non-retryable failure here cannot be rolled back
        try:
            await self._activity(MigrationActivities.contract, self._phase_input())
        except (ActivityError, ApplicationError) as err:
            await self._fail(message(err), f"contract failed: {message(err)}", roll_back=False)
        self._enter(Phase.COMPLETE)
        return await self._finish()

    async def _until_contract(self) -> None:
        options = self._input.options
        prepared: Prepared = await self._activity(
            MigrationActivities.prepare,
            PrepareInput(
                target=self._input.target, migration=self._input.migration, file=self._input.file, lock=options.lock
            ),
        )
        self._prepared = True
        self._status.tables = prepared.tables  # with the tables found in the catalog, for operators
        await self._between_phases()

        self._enter(Phase.EXPAND)
        await self._activity(MigrationActivities.expand, self._phase_input(), interruptible=True)
        await self._between_phases()

        self._enter(Phase.BACKFILL)
        if prepared.backfill_tables:
            await self._backfill()
        await self._between_phases()

        self._enter(Phase.VERIFY)
        await self._activity(MigrationActivities.validate_constraints, self._phase_input(), interruptible=True)
        report: VerifyReport = await self._activity(MigrationActivities.verify, self._phase_input(), interruptible=True)
        self._status.verify = report
        if not report.ok:
            raise ApplicationError(report.summary(), type="VerificationFailed", non_retryable=True)
        await self._between_phases()

        if not options.auto_cutover:
            self._enter(Phase.AWAITING_CUTOVER)
            await self._gate("cutover")
            await self._between_phases()

        self._enter(Phase.CUTOVER)
        percent = 0 if options.canary_steps else options.cutover_percent  # the steps move green from 0%
        await self._activity(MigrationActivities.cutover, self._phase_input(percent=percent), interruptible=True)
        self._record_share(percent, "cutover")
        await self._between_phases()

        self._enter(Phase.AWAITING_CONTRACT)
        if options.canary_steps:
            await self._walk_steps()
        await self._contract_gate(options.soak_seconds)  # holds while paused, as between phases

    async def _fail(self, reason: str, outcome: str, roll_back: bool) -> NoReturn:
        """End on a failure no retry can fix: roll back first where that is still possible."""
        self._status.last_error = reason
        if roll_back:
            await self._roll_back(reason)
        else:
            self._enter(Phase.FAILED)
        await self._finish()
        raise ApplicationError(outcome, type="MigrationFailed", non_retryable=True) from None

    async def _finish(self) -> MigrationStatus:
        self._status.waiting_for = None
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    # phases

    async def _backfill(self) -> None:
        request = BackfillInput(
            target=self._input.target, migration=self._input.migration.name, parallelism=self._input.options.parallelism
        )
        plans: list[TablePlan] = await self._activity(MigrationActivities.plan_backfill, request, interruptible=True)
        self._totals = {p.table: p for p in plans}
        self._refresh_progress()
        by_heartbeat = workflow.patched(PROGRESS_IN_HEARTBEATS)
        partitions = [self._start_partition(p.table, i, by_heartbeat) for p in plans for i in range(p.partitions)]
        if by_heartbeat:
            for t in partitions:
                t.add_done_callback(self._record_partition)
        await workflow.wait_condition(
            lambda: (
                all(t.done() for t in partitions)
                or any(t.done() and t.exception() is not None for t in partitions)
                or self._rollback_reason is not None
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
        if self._rollback_reason is not None:
            raise RollbackRequested()
        for t in partitions:
            self._hold_result(t.result())
        self._refresh_progress()

    def _hold_result(self, result: PartitionResult) -> None:
        p = result.progress
        report = ProgressReport(table=p.table, partition=p.partition, rows_done=p.rows_done, done=p.done)
        self._partitions[(p.table, p.partition)] = report
        if result.earlier_error:  # the partition retried: the status keeps why (the signal said so before)
            failed = report.model_copy(update={"error": result.earlier_error})
            self._status.last_error = progress.partition_error(failed)

    def _record_partition(self, task: asyncio.Task[PartitionResult]) -> None:
        """A partition finished: its result is the workflow's record of it (the rest still heartbeat theirs)."""
        if not task.cancelled() and task.exception() is None:
            self._hold_result(task.result())
            self._refresh_progress()

    def _start_partition(
        self, table: str, partition: int, by_heartbeat: bool
    ) -> workflow.ActivityHandle[PartitionResult]:
        options = self._input.options
        return workflow.start_activity_method(
            MigrationActivities.backfill_partition,
            PartitionInput(
                target=self._input.target,
                migration=self._input.migration.name,
                table=table,
                partition=partition,
                throttle=options.throttle,
                progress_interval_s=options.progress_interval_s,
                signal_progress=not by_heartbeat,
            ),
            start_to_close_timeout=BACKFILL_TIMEOUT,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=BACKFILL_RETRY,
            # on rollback, wait until the partition has stopped before undoing what it writes to
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )

    async def _gate(self, gate: str, soak_seconds: float | None = None) -> None:
        """Wait for approval of `gate` (or the soak timer, durable across worker restarts)."""
        self._status.waiting_for = gate  # type: ignore[assignment]
        if soak_seconds is not None:
            self._status.contract_at = workflow.now() + timedelta(seconds=soak_seconds)
        self._publish()
        ready = lambda: gate in self._approved or self._rollback_reason is not None  # noqa: E731
        if soak_seconds is None:
            await workflow.wait_condition(ready)
        elif soak_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(ready, timeout=soak_seconds, timeout_summary=f"{gate} soak")
        self._status.waiting_for = None

    async def _between_phases(self) -> None:
        """Hold while paused; a rollback request (also while paused) ends the forward path here."""
        await workflow.wait_condition(lambda: not self._status.paused or self._rollback_reason is not None)
        if self._rollback_reason is not None:
            raise RollbackRequested()

    async def _roll_back(self, reason: str) -> None:
        self._status.rollback_reason = reason
        self._status.waiting_for = None
        self._enter(Phase.ROLLING_BACK)
        if self._prepared:
            await self._activity(MigrationActivities.rollback, self._phase_input(reason=reason))
        self._status.paused = False
        self._enter(Phase.ROLLED_BACK)
