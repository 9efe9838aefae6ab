"""MigrationWorkflow: one migration, walked through its phases durably.

    prepare -> expand -> backfill -> validate constraints -> verify -> cutover gate -> cutover
            -> contract gate (soak timer or approval) -> contract

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
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.migration import MigrationActivities
    from liveshift.verify import VerifyReport
    from workflows.models import (
        APPROVE,
        PAUSE,
        PROGRESS,
        RESUME,
        ROLLBACK,
        SA_MIGRATION,
        SA_PHASE,
        SA_TABLES,
        SA_TARGET,
        STATUS,
        WORKFLOW_NAME,
        ApproveRequest,
        BackfillInput,
        MigrationInput,
        MigrationStatus,
        PartitionInput,
        PartitionResult,
        Phase,
        PhaseInput,
        PhaseTransition,
        Prepared,
        PrepareInput,
        ProgressReport,
        RollbackRequest,
        TablePlan,
        TableProgress,
    )

# exception class names the core raises that no retry can fix
NON_RETRYABLE = ("SpecError", "VerificationFailed", "MigrationStateError")
# phases from which a rollback can no longer apply
NO_ROLLBACK: tuple[Phase, ...] = ("contract", "complete", "rolling_back", "rolled_back", "failed")
NO_PAUSE: tuple[Phase, ...] = ("contract", "complete", "rolling_back", "rolled_back", "failed")

HEARTBEAT_TIMEOUT = timedelta(seconds=10)
PHASE_TIMEOUT = timedelta(hours=24)  # a CREATE INDEX CONCURRENTLY on a big table; heartbeats catch dead workers
BACKFILL_TIMEOUT = timedelta(days=7)
# transient failures: the activity retries with backoff; after these attempts the workflow records the
# error in its status (so operators see it), waits, and tries again
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=list(NON_RETRYABLE),
)
# a backfill partition keeps retrying on its own: each attempt resumes from the checkpoint and
# reports its last error with its progress signal
BACKFILL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=list(NON_RETRYABLE),
)
RETRY_AGAIN_AFTER = timedelta(seconds=30)
# patch id: a Temporal cancellation becomes a rollback request (before it, it interrupted the phase in flight)
CANCEL_ROLLS_BACK = "cancel-rolls-back"


class _RollbackRequested(Exception):
    pass


def _is_non_retryable(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, ActivityError) else err
    return isinstance(cause, ApplicationError) and (cause.non_retryable or cause.type in NON_RETRYABLE)


def _message(err: BaseException) -> str:
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    return str(cause.message if isinstance(cause, ApplicationError) else cause)


@workflow.defn(name=WORKFLOW_NAME)
class MigrationWorkflow:
    @workflow.init
    def __init__(self, input: MigrationInput) -> None:
        self._input = input
        self._status = MigrationStatus(
            workflow_id=workflow.info().workflow_id,
            migration=input.migration.name,
            target=input.target,
            schema_name=input.migration.schema_name,
            tables=input.migration.tables(),
            phase="starting",
            transitions=[PhaseTransition(phase="starting", at=workflow.now())],
        )
        self._prepared = False
        self._rollback_reason: str | None = None
        self._cancelled = False  # the workflow was cancelled through Temporal and rolls back for it
        self._approved: set[str] = set()
        self._partitions: dict[tuple[str, int], ProgressReport] = {}
        self._totals: dict[str, TablePlan] = {}
        self._flag_lock = asyncio.Lock()  # pause and resume apply the database flag in order

    # the run

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
        if self._cancelled and status.phase == "rolled_back":
            raise CancelledError(f"rolled back: {status.rollback_reason}")  # ends the workflow cancelled
        return status

    async def _run(self) -> MigrationStatus:
        try:
            await self._until_contract()
        except _RollbackRequested:
            await self._roll_back(self._rollback_reason or "requested by operator")
            return await self._finish()
        except (ActivityError, ApplicationError) as err:
            if not _is_non_retryable(err):
                raise
            reason = _message(err)
            self._status.last_error = reason
            if self._prepared:
                await self._roll_back(reason)
                await self._finish()
                raise ApplicationError(f"{reason} (rolled back)", type="MigrationFailed", non_retryable=True) from None
            self._enter("failed")
            await self._finish()
            raise ApplicationError(reason, type="MigrationFailed", non_retryable=True) from None

        # contract: irreversible; a non-retryable failure here cannot be rolled back
        self._enter("contract")
        try:
            await self._activity(MigrationActivities.contract, self._phase_input())
        except (ActivityError, ApplicationError) as err:
            self._status.last_error = _message(err)
            self._enter("failed")
            await self._finish()
            raise ApplicationError(
                f"contract failed: {_message(err)}", type="MigrationFailed", non_retryable=True
            ) from None
        self._enter("complete")
        return await self._finish()

    async def _until_contract(self) -> None:
        options = self._input.options
        prepared: Prepared = await self._activity(
            MigrationActivities.prepare,
            PrepareInput(target=self._input.target, migration=self._input.migration, file=self._input.file),
        )
        self._prepared = True
        self._status.tables = prepared.tables  # with the tables found in the catalog, for operators
        await self._between_phases()

        self._enter("expand")
        await self._activity(MigrationActivities.expand, self._phase_input(), interruptible=True)
        await self._between_phases()

        self._enter("backfill")
        if prepared.backfill_tables:
            await self._backfill()
        await self._between_phases()

        self._enter("verify")
        await self._activity(MigrationActivities.validate_constraints, self._phase_input(), interruptible=True)
        report: VerifyReport = await self._activity(MigrationActivities.verify, self._phase_input(), interruptible=True)
        self._status.verify = report
        if not report.ok:
            raise ApplicationError(report.summary(), type="VerificationFailed", non_retryable=True)
        await self._between_phases()

        if not options.auto_cutover:
            self._enter("awaiting_cutover")
            await self._gate("cutover")
            await self._between_phases()

        self._enter("cutover")
        await self._activity(
            MigrationActivities.cutover, self._phase_input(percent=options.cutover_percent), interruptible=True
        )
        await self._between_phases()

        self._enter("awaiting_contract")
        await self._gate("contract", options.soak_seconds)
        await self._between_phases()

    async def _finish(self) -> MigrationStatus:
        self._status.waiting_for = None
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    # phases

    async def _activity(self, fn: Any, arg: Any, interruptible: bool = False) -> Any:
        """Run one activity to completion; transient failures are retried forever, visibly.

        `interruptible`: a forward phase, which a rollback request ends while it waits to retry.
        """
        while True:
            try:
                return await workflow.execute_activity_method(
                    fn,
                    arg,
                    start_to_close_timeout=PHASE_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY,
                )
            except ActivityError as err:
                if _is_non_retryable(err):
                    raise
                self._status.last_error = f"{fn.__name__}: {_message(err)} (retrying)"
                self._publish_details()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: interruptible and self._rollback_reason is not None, timeout=RETRY_AGAIN_AFTER
                    )
                if interruptible and self._rollback_reason is not None:
                    raise _RollbackRequested() from None

    async def _backfill(self) -> None:
        options = self._input.options
        plans: list[TablePlan] = await self._activity(
            MigrationActivities.plan_backfill,
            BackfillInput(
                target=self._input.target, migration=self._input.migration.name, parallelism=options.parallelism
            ),
            interruptible=True,
        )
        self._totals = {p.table: p for p in plans}
        self._refresh_progress()
        tasks = [
            workflow.start_activity_method(
                MigrationActivities.backfill_partition,
                PartitionInput(
                    target=self._input.target,
                    migration=self._input.migration.name,
                    table=p.table,
                    partition=i,
                    throttle=options.throttle,
                    progress_interval_s=options.progress_interval_s,
                ),
                start_to_close_timeout=BACKFILL_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=BACKFILL_RETRY,
                # on rollback, wait until the partition has stopped before undoing what it writes to
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            for p in plans
            for i in range(p.partitions)
        ]

        def failed() -> bool:
            return any(t.done() and t.exception() is not None for t in tasks)

        await workflow.wait_condition(
            lambda: all(t.done() for t in tasks) or failed() or self._rollback_reason is not None
        )
        if not all(t.done() for t in tasks):
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in tasks:
            exc = t.exception() if not t.cancelled() else None
            if exc is not None and not isinstance(getattr(exc, "cause", None), CancelledError):
                raise exc
        if self._rollback_reason is not None:
            raise _RollbackRequested()
        for t in tasks:
            result: PartitionResult = t.result()
            p = result.progress
            self._partitions[(p.table, p.partition)] = ProgressReport(
                table=p.table, partition=p.partition, rows_done=p.rows_done, done=p.done
            )
        self._refresh_progress()

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
            raise _RollbackRequested()

    async def _roll_back(self, reason: str) -> None:
        self._status.rollback_reason = reason
        self._status.waiting_for = None
        self._enter("rolling_back")
        if self._prepared:
            await self._activity(MigrationActivities.rollback, self._phase_input(reason=reason))
        self._status.paused = False
        self._enter("rolled_back")

    def _phase_input(self, **kwargs: Any) -> PhaseInput:
        return PhaseInput(
            target=self._input.target, migration=self._input.migration.name, lock=self._input.options.lock, **kwargs
        )

    # status, search attributes, memo, UI details

    def _enter(self, phase: Phase) -> None:
        self._status.phase = phase
        self._status.transitions.append(PhaseTransition(phase=phase, at=workflow.now()))
        self._publish()

    def _publish(self) -> None:
        """Phase, tables and target where the Temporal UI shows them (one event per phase change)."""
        workflow.upsert_search_attributes(
            TypedSearchAttributes(
                [
                    SearchAttributePair(SA_PHASE, self._status.phase),
                    SearchAttributePair(SA_TABLES, self._status.tables),
                    SearchAttributePair(SA_TARGET, self._status.target),
                    SearchAttributePair(SA_MIGRATION, self._status.migration),
                ]
            )
        )
        workflow.upsert_memo(
            {
                "migration": self._status.migration,
                "target": self._status.target,
                "tables": self._status.tables,
                "phase": self._status.phase,
                "rollback_reason": self._status.rollback_reason,
            }
        )
        self._publish_details()

    def _publish_details(self) -> None:
        """The workflow's current details (no history event): what an operator wants at a glance."""
        s = self._status
        lines = [f"**{s.migration}** on `{s.target}`: phase **{s.phase}**" + (" (paused)" if s.paused else "")]
        if s.waiting_for:
            lines.append(
                f"waiting for approval of the **{s.waiting_for}** gate"
                + (f" (or until {s.contract_at:%Y-%m-%d %H:%M:%S} UTC)" if s.contract_at else "")
            )
        for t in s.progress:
            eta = f", ETA {t.eta_seconds:.0f}s" if t.eta_seconds is not None else ""
            lines.append(f"- {t.table}: {t.rows_done}/{t.rows_total} rows, {t.rows_per_second:.0f} rows/s{eta}")
        if s.throttled:
            lines.append(f"throttled: {s.throttled}")
        if s.verify is not None:
            lines.append(s.verify.summary())
        if s.last_error:
            lines.append(f"last error: {s.last_error}")
        if s.rollback_reason:
            lines.append(f"rollback: {s.rollback_reason}")
        workflow.set_current_details("\n".join(lines))

    def _refresh_progress(self) -> None:
        progress = []
        throttled = None
        for table, plan in self._totals.items():
            reports = [r for (t, _), r in self._partitions.items() if t == table]
            done = sum(r.rows_done for r in reports)
            rate = sum(r.rows_per_second for r in reports if not r.done)
            total = max(plan.rows_total, done)
            finished = sum(1 for r in reports if r.done)
            progress.append(
                TableProgress(
                    table=table,
                    rows_total=total,
                    rows_done=done,
                    rows_per_second=rate,
                    eta_seconds=(total - done) / rate if rate > 0 else (0.0 if finished == plan.partitions else None),
                    partitions=plan.partitions,
                    partitions_done=finished,
                )
            )
            throttled = throttled or next((r.throttled for r in reports if r.throttled and not r.done), None)
        self._status.progress = progress
        self._status.throttled = throttled
        self._publish_details()

    # handlers

    @workflow.signal(name=PROGRESS)
    def on_progress(self, report: ProgressReport) -> None:
        if self._status.phase != "backfill":
            return  # a late report from a partition that already finished
        self._partitions[(report.table, report.partition)] = report
        if report.error:
            self._status.last_error = f"backfill {report.table}/{report.partition}: {report.error} (retrying)"
        self._refresh_progress()

    @workflow.query(name=STATUS)
    def status(self) -> MigrationStatus:
        return self._status

    def _refusal_of_pause(self) -> str | None:
        if self._status.phase in NO_PAUSE:
            return f"cannot pause: the migration is in phase {self._status.phase}"
        if self._status.paused:
            return "already paused"
        return None

    def _refusal_of_resume(self) -> str | None:
        return None if self._status.paused else f"not paused (phase {self._status.phase})"

    def _refusal_of_rollback(self) -> str | None:
        phase = self._status.phase
        if phase in ("contract", "complete"):
            return "cannot roll back: contract has begun (it is irreversible)"
        if phase in NO_ROLLBACK:
            return f"cannot roll back: the migration is already {phase.replace('_', ' ')}"
        return None

    def _refusal_of_approval(self, gate: str) -> str | None:
        if self._status.waiting_for != gate:
            waiting = f"the {self._status.waiting_for} gate is" if self._status.waiting_for else "no gate is"
            return f"the {gate} gate is not waiting for approval ({waiting} waiting; phase {self._status.phase})"
        return None

    async def _pause(self) -> str:
        self._status.paused = True  # the workflow holds before the next phase from now on
        self._publish()
        async with self._flag_lock:
            if self._prepared:  # before that, no partition runs and the record may not exist yet
                await self._activity(MigrationActivities.set_paused, self._phase_input(paused=True))
        return f"paused in phase {self._status.phase}" + (
            ": backfill stops at the next batch boundary" if self._status.phase == "backfill" else ""
        )

    async def _resume(self) -> str:
        async with self._flag_lock:
            if self._prepared:
                await self._activity(MigrationActivities.set_paused, self._phase_input(paused=False))
        self._status.paused = False
        self._publish()
        return f"resumed in phase {self._status.phase}"

    def _on_cancel(self, reason: str | None) -> None:
        if self._status.phase in ("contract", "complete", "failed"):
            refusal = self._refusal_of_rollback() or f"the migration has {self._status.phase}"
            self._status.last_error = f"cancellation ignored: {refusal}"
            self._publish_details()
            return
        self._cancelled = True
        if self._rollback_reason is None:  # an operator's rollback request already under way keeps its reason
            self._rollback_reason = "workflow cancelled through Temporal" + (f": {reason}" if reason else "")

    def _request_rollback(self, request: RollbackRequest) -> str:
        self._rollback_reason = request.reason
        return f"rolling back from phase {self._status.phase}: {request.reason}"

    def _approve(self, request: ApproveRequest) -> str:
        self._approved.add(request.gate)
        return f"{request.gate} approved"

    # updates: validated, the caller learns the outcome or why it was refused

    @workflow.update(name=PAUSE)
    async def pause_update(self) -> str:
        return await self._pause()

    @pause_update.validator
    def _validate_pause(self) -> None:
        _refuse(self._refusal_of_pause())

    @workflow.update(name=RESUME)
    async def resume_update(self) -> str:
        return await self._resume()

    @resume_update.validator
    def _validate_resume(self) -> None:
        _refuse(self._refusal_of_resume())

    @workflow.update(name=ROLLBACK)
    def rollback_update(self, request: RollbackRequest) -> str:
        return self._request_rollback(request)

    @rollback_update.validator
    def _validate_rollback(self, request: RollbackRequest) -> None:
        _refuse(self._refusal_of_rollback())

    @workflow.update(name=APPROVE)
    def approve_update(self, request: ApproveRequest) -> str:
        return self._approve(request)

    @approve_update.validator
    def _validate_approve(self, request: ApproveRequest) -> None:
        _refuse(self._refusal_of_approval(request.gate))

    # signals: fire and forget; a request that cannot apply is ignored and noted in the status

    @workflow.signal(name=PAUSE)
    async def pause_signal(self) -> None:
        if not self._ignored(PAUSE, self._refusal_of_pause()):
            await self._pause()

    @workflow.signal(name=RESUME)
    async def resume_signal(self) -> None:
        if not self._ignored(RESUME, self._refusal_of_resume()):
            await self._resume()

    @workflow.signal(name=ROLLBACK)
    def rollback_signal(self, request: RollbackRequest) -> None:
        if not self._ignored(ROLLBACK, self._refusal_of_rollback()):
            self._request_rollback(request)

    @workflow.signal(name=APPROVE)
    def approve_signal(self, request: ApproveRequest) -> None:
        if not self._ignored(APPROVE, self._refusal_of_approval(request.gate)):
            self._approve(request)

    def _ignored(self, name: str, refusal: str | None) -> bool:
        if refusal is not None:
            self._status.last_error = f"{name} signal ignored: {refusal}"
            self._publish_details()
        return refusal is not None


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise ApplicationError(refusal, type="RequestRefused", non_retryable=True)
