"""The operator's requests to a running migration, and what the workflow answers to them.

Each request exists twice under one name, sharing its refusal (workflows/requests.py) and its effect:
an Update (validated: a refusal reaches the caller) and a signal (fire and forget: one that cannot
apply is ignored, and the status says why). A Temporal cancellation is a rollback request.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.migration import MigrationActivities
    from liveshift.activities.payloads import PROGRESS, ProgressReport
    from liveshift.lifecycle import Phase
    from liveshift.workflows import progress, requests
    from liveshift.workflows.models import (
        APPROVE,
        PAUSE,
        RESUME,
        ROLLBACK,
        SHIFT,
        STATUS,
        ApproveRequest,
        MigrationStatus,
        RollbackRequest,
        ShiftRequest,
    )

from liveshift.workflows.shifting import ShareControl


class OperatorHandlers(ShareControl):
    @workflow.signal(name=PROGRESS)
    def on_progress(self, report: ProgressReport) -> None:
        if self._status.phase != Phase.BACKFILL:
            return  # a late report from a partition that already finished
        self._partitions[(report.table, report.partition)] = report
        error = progress.partition_error(report)
        if error:
            self._status.last_error = error
        self._refresh_progress()

    @workflow.query(name=STATUS)
    def status(self) -> MigrationStatus:
        return self._status

    async def _pause(self) -> str:
        self._status.paused = True  # the workflow holds before the next phase from now on
        self._publish()
        async with self._flag_lock:
            if self._prepared:  # before that, no partition runs and the record may not exist yet
                await self._activity(MigrationActivities.set_paused, self._phase_input(paused=True))
        return f"paused in phase {self._status.phase}" + (
            ": backfill stops at the next batch boundary" if self._status.phase == Phase.BACKFILL else ""
        )

    async def _resume(self) -> str:
        async with self._flag_lock:
            if self._prepared:
                await self._activity(MigrationActivities.set_paused, self._phase_input(paused=False))
        self._status.paused = False
        self._publish()
        return f"resumed in phase {self._status.phase}"

    def _roll_back_on_request(self, request: RollbackRequest) -> str:
        self._rollback_reason = request.reason
        return f"rolling back from phase {self._status.phase}: {request.reason}"

    def _approve(self, request: ApproveRequest) -> str:
        self._approved.add(request.gate)
        return f"{request.gate} approved"

    async def _shift(self, request: ShiftRequest) -> str:
        before = self._status.green_percent
        took_over = self._walking and not self._taken_over
        self._taken_over = True  # from now on the operator drives (a schedule stops where it is)
        if request.percent < 100:
            self._approved.discard("contract")  # contract needs 100%: an earlier approval no longer holds
        await self._apply_share(request.percent, "operator")
        return f"green has {request.percent}% of clients (was {before}%)" + (
            "; the scheduled steps stop: the operator drives from here" if took_over else ""
        )

    def _on_cancel(self, reason: str | None) -> None:
        refusal = requests.refusal_of_cancellation(self._status)
        if refusal is not None:
            self._note(f"cancellation ignored: {refusal}")
            return
        self._cancelled = True
        if self._rollback_reason is None:  # an operator's rollback request already under way keeps its reason
            self._rollback_reason = "workflow cancelled through Temporal" + (f": {reason}" if reason else "")

    def _validate(self, request: str, gate: str = "") -> None:
        """An Update's validator: a refusal reaches the caller, and the Update never runs."""
        refusal = requests.refusal(request, self._status, gate)
        if refusal is not None:
            raise ApplicationError(refusal, type="RequestRefused", non_retryable=True)

    def _accepts_signal(self, request: str, gate: str = "") -> bool:
        """A signal's check: one that cannot apply is ignored, and the status says why."""
        refusal = requests.refusal(request, self._status, gate)
        if refusal is not None:
            self._note(f"{request} signal ignored: {refusal}")
        return refusal is None

    def _note(self, error: str) -> None:
        self._status.last_error = error
        self._publish_details()

    # each request twice, under one name: an Update (validated, answered) and a signal (fire and forget)

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
        if self._legacy_contract:  # a history from before FULL_SHARE_BEFORE_CONTRACT: contract at any share
            if requests.refusal_of_approval(self._status, request.gate, needs_full_share=False) is None:
                self._approve(request)
        elif self._accepts_signal(APPROVE, request.gate):
            self._approve(request)

    @workflow.update(name=SHIFT)
    async def shift_update(self, request: ShiftRequest) -> str:
        return await self._shift(request)

    @shift_update.validator
    def _validate_shift(self, request: ShiftRequest) -> None:
        self._validate(SHIFT)

    @workflow.signal(name=SHIFT)
    async def shift_signal(self, request: ShiftRequest) -> None:
        if self._accepts_signal(SHIFT):
            await self._shift(request)
