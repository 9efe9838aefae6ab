"""MigrateDirectoryWorkflow: a migrations directory applied in order, one child MigrationWorkflow per file.

    pending files (refuses an edited applied file, a gap) -> for each: record start -> child -> record end

The child is the ordinary migration workflow with the run's options, and its id is the one `liveshift start`
would give it: operators pause, approve and roll back each file's migration as for any migration, and each
child waits at its own gates. The next file starts when the previous one completes; a file that rolls back
or fails stops the directory there, recorded in the history with its reason, so a later `liveshift migrate`
takes it up again. Everything is durable: a worker that dies resumes the parent and the child where they were.
Cancelling the directory run (Temporal UI, `temporal workflow cancel`) cancels the child in flight, which
rolls its migration back; that is recorded, and the run ends cancelled.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.history import HistoryActivities
    from liveshift.activities.payloads import CloseStaleInput, PendingInput, RecordEndInput, RecordStartInput
    from liveshift.store.history import MigrationFileRef, Outcome
    from liveshift.workflows.directory_models import (
        DIRECTORY_STATUS,
        DIRECTORY_WORKFLOW,
        DirectoryFile,
        DirectoryFileState,
        DirectoryInput,
        DirectoryStatus,
    )
    from liveshift.workflows.models import (
        SA_MIGRATION,
        SA_TABLES,
        SA_TARGET,
        WORKFLOW_NAME,
        MigrationInput,
        MigrationStatus,
        summary,
    )
    from liveshift.workflows.models import workflow_id as migration_workflow_id

STEP_TIMEOUT = timedelta(minutes=2)
# why an attempt still `running` when a run begins is closed (one run per target at a time: its run is gone)
STALE_REASON = "its directory run ended without recording an outcome (terminated?); closed by the next run"
# the history records are small statements: retry a lost database or worker for as long as it takes
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), non_retryable_error_types=["SpecError"])


def failure_message(err: BaseException) -> str:
    cause: BaseException | None = err
    message = str(err)
    while cause is not None:
        if isinstance(cause, ApplicationError | CancelledError) and cause.message:
            message = cause.message
        cause = cause.__cause__
    return message


def child_outcome(err: ChildWorkflowError, cancel_reason: str | None) -> tuple[Outcome, str]:
    """A child that ended in failure: rolled back (cancelled, or failed after rolling back) or failed.

    A cancelled workflow's end carries no message: the reason is the directory's own cancellation, or else
    someone cancelled the file's migration workflow itself."""
    if isinstance(err.cause, CancelledError):
        return "rolled_back", cancel_reason or "its migration workflow was cancelled through Temporal"
    message = failure_message(err)
    return ("rolled_back" if message.endswith("(rolled back)") else "failed"), message


async def history_step(fn: Any, arg: Any) -> Any:
    return await workflow.execute_activity_method(fn, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY)


@workflow.defn(name=DIRECTORY_WORKFLOW)
class MigrateDirectoryWorkflow:
    @workflow.init
    def __init__(self, input: DirectoryInput) -> None:
        self._status = DirectoryStatus(
            workflow_id=workflow.info().workflow_id,
            target=input.target,
            files=[
                DirectoryFileState(file=f.ref.file, migration=f.migration.name, tables=f.migration.tables())
                for f in input.files
            ],
        )
        self._cancel_reason: str | None = None
        self._in_flight: asyncio.Task[tuple[Outcome, str | None]] | None = None  # the child of the file in flight

    @workflow.query(name=DIRECTORY_STATUS)
    def status(self) -> DirectoryStatus:
        return self._status

    @workflow.run
    async def run(self, input: DirectoryInput) -> DirectoryStatus:
        # The files run in a task of their own that a Temporal cancellation does not reach: the cancellation is
        # passed to the migration in flight (which rolls back, as a cancelled migration does) and the run stops
        # once its outcome is recorded, so no history record is left open.
        files = asyncio.create_task(self._run(input))
        while True:
            try:
                return await asyncio.shield(files)
            except asyncio.CancelledError:
                self._cancel_reason = "directory run cancelled" + (
                    f": {reason}" if (reason := workflow.cancellation_reason()) else ""
                )
                if self._in_flight is not None:
                    self._in_flight.cancel(self._cancel_reason)

    async def _run(self, input: DirectoryInput) -> DirectoryStatus:
        self._publish()
        try:
            todo: list[MigrationFileRef] = await history_step(
                HistoryActivities.history_pending, PendingInput(target=input.target, files=[f.ref for f in input.files])
            )
        except ActivityError as err:  # an edited applied file, a gap, an unknown target: nothing ran
            self._stop(failure_message(err))
        await history_step(
            HistoryActivities.history_close_stale,
            CloseStaleInput(target=input.target, reason=STALE_REASON),
        )
        pending = {ref.file for ref in todo}
        for state in self._status.files:
            state.state = "pending" if state.file in pending else "applied"
        self._status.state = "applying"
        self._publish()
        for file in input.files:
            if file.ref.file not in pending:
                continue
            if self._cancel_reason is not None:
                self._stop(f"{self._cancel_reason} before {file.ref.file}")
            outcome, reason = await self._apply(input, file)
            if outcome != "complete":
                self._stop(f"{file.ref.file}: {outcome.replace('_', ' ')}: {reason}")
        self._status.state = "complete"
        self._publish()
        return self._status

    async def _apply(self, input: DirectoryInput, file: DirectoryFile) -> tuple[Outcome, str | None]:
        state = next(s for s in self._status.files if s.file == file.ref.file)
        child_id = migration_workflow_id(input.target, file.migration)
        entry_id: int = await history_step(
            HistoryActivities.history_record_start,
            RecordStartInput(target=input.target, ref=file.ref, started_by=input.started_by, workflow_id=child_id),
        )
        state.state, state.workflow_id, state.started_at = "running", child_id, workflow.now()
        self._publish()
        if self._cancel_reason is None:
            self._in_flight = asyncio.create_task(self._child(input, file, child_id))
            outcome, reason = await self._in_flight
            self._in_flight = None
        else:  # the cancellation arrived while the attempt was being recorded
            outcome, reason = "failed", f"not started: {self._cancel_reason}"
        await history_step(
            HistoryActivities.history_record_end,
            RecordEndInput(target=input.target, entry_id=entry_id, outcome=outcome, reason=reason),
        )
        state.state, state.reason, state.ended_at = outcome, reason, workflow.now()
        self._publish()
        return outcome, reason

    async def _child(self, input: DirectoryInput, file: DirectoryFile, child_id: str) -> tuple[Outcome, str | None]:
        request = MigrationInput(target=input.target, migration=file.migration, options=input.options, file=file.path)
        try:
            result: MigrationStatus = await workflow.execute_child_workflow(
                WORKFLOW_NAME,
                request,
                id=child_id,
                result_type=MigrationStatus,
                # the directory run ending (terminated, timed out) asks the file in flight to roll back
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=summary(request),
            )
        except WorkflowAlreadyStartedError:
            tables = ", ".join(file.migration.tables())
            return "failed", f"a migration of {tables} is already running (workflow {child_id}); finish it first"
        except ChildWorkflowError as err:
            return child_outcome(err, self._cancel_reason)
        if result.phase == "complete":
            return "complete", None
        outcome: Outcome = "rolled_back" if result.phase == "rolled_back" else "failed"
        return outcome, result.rollback_reason or result.last_error

    def _stop(self, reason: str) -> NoReturn:
        self._status.state, self._status.reason = "stopped", reason
        self._publish()
        if self._cancel_reason is not None:
            raise CancelledError(reason)  # ends the workflow cancelled
        raise ApplicationError(reason, type="DirectoryStopped", non_retryable=True)

    def _publish(self) -> None:
        """Target, tables and the file in flight for the Temporal UI's list; the files' states as current details."""
        current = self._status.current
        pairs: list[SearchAttributePair[Any]] = [
            SearchAttributePair(SA_TARGET, self._status.target),
            SearchAttributePair(SA_TABLES, sorted({t for f in self._status.files for t in f.tables})),
        ]
        if current is not None:
            pairs.append(SearchAttributePair(SA_MIGRATION, current.migration))
        workflow.upsert_search_attributes(TypedSearchAttributes(pairs))
        workflow.set_current_details(details(self._status))


def details(status: DirectoryStatus) -> str:
    lines = [f"migrations directory on `{status.target}`: **{status.state}**"]
    if status.reason:
        lines.append(f"stopped: {status.reason}")
    for f in status.files:
        child = f" (workflow `{f.workflow_id}`)" if f.workflow_id and f.state == "running" else ""
        lines.append(f"- {f.file}: **{f.state}**{child}" + (f": {f.reason}" if f.reason else ""))
    return "\n".join(lines)
