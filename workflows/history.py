"""HistoryWorkflow: one short look at, or baseline of, a target's history, for the CLI.

The CLI talks to Temporal only; the worker alone resolves a target to a connection string. So `liveshift
history`, `liveshift baseline` and `liveshift migrate`'s pre-check run one activity through this workflow on
the worker's task queue and read its result; so does `liveshift init` (a schema's base version registered).
A refusal (an edited applied file, a gap, an unknown file or target) fails the workflow with the core's
message, which the CLI prints.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.history import HistoryActivities
    from liveshift.activities.payloads import BaselineInput, EntriesInput, InitInput, InitResult, PendingInput
    from liveshift.store.history import HistoryEntry, MigrationFileRef
    from liveshift.workflows.directory_models import HISTORY_WORKFLOW, HistoryAnswer, HistoryRequest

# someone waits at a terminal: a few tries, then the failure is theirs to read
RETRY = RetryPolicy(maximum_attempts=3, non_retryable_error_types=["SpecError"])
TIMEOUT = timedelta(minutes=1)


async def _step(fn: Any, arg: Any) -> Any:
    return await workflow.execute_activity_method(fn, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)


@workflow.defn(name=HISTORY_WORKFLOW)
class HistoryWorkflow:
    @workflow.run
    async def run(self, request: HistoryRequest) -> HistoryAnswer:
        if request.action == "entries":
            entries: list[HistoryEntry] = await _step(
                HistoryActivities.history_entries, EntriesInput(target=request.target)
            )
            return HistoryAnswer(entries=entries)
        if request.action == "init":  # a new action: no earlier history took this branch
            init: InitResult = await _step(
                HistoryActivities.init_schema, InitInput(target=request.target, schema_name=request.schema_name)
            )
            return HistoryAnswer(version=init.version, created=init.created)
        if request.action == "pending":
            todo: list[MigrationFileRef] = await _step(
                HistoryActivities.history_pending, PendingInput(target=request.target, files=request.files)
            )
            return HistoryAnswer(files=todo)
        recorded: list[str] = await _step(
            HistoryActivities.history_baseline,
            BaselineInput(target=request.target, files=request.files, upto=request.upto, started_by=request.started_by),
        )
        return HistoryAnswer(files=[f for f in request.files if f.file in recorded])
