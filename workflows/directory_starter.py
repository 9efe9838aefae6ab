"""Starting a migrations directory run the one right way: one run per target at a time, UI summary, search attributes.

`liveshift migrate` and the tests call `start_directory`; a second run on a target whose run is still going is
refused and names the running one.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from liveshift.errors import MigrationStateError
from liveshift.workflows.directory_models import (
    DIRECTORY_WORKFLOW,
    DirectoryInput,
    DirectoryStatus,
    directory_workflow_id,
)
from liveshift.workflows.models import SA_TABLES, SA_TARGET, TASK_QUEUE


async def start_directory(
    client: Client, request: DirectoryInput, pending: int, task_queue: str = TASK_QUEUE
) -> WorkflowHandle[object, DirectoryStatus]:
    """`pending`: how many files the run will apply, for the UI's one-line summary."""
    wid = directory_workflow_id(request.target)
    tables = sorted({t for f in request.files for t in f.migration.tables()})
    try:
        return await client.start_workflow(
            DIRECTORY_WORKFLOW,
            request,
            id=wid,
            task_queue=task_queue,
            result_type=DirectoryStatus,
            # a finished run may be followed by another; a running one may not
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(SA_TARGET, request.target), SearchAttributePair(SA_TABLES, tables)]
            ),
            static_summary=f"liveshift migrate on {request.target}: {pending} of {len(request.files)} files to apply",
            static_details="\n".join(f"- {f.ref.file} ({f.migration.name})" for f in request.files),
        )
    except WorkflowAlreadyStartedError:
        raise MigrationStateError(
            f"a migrations directory run on target {request.target!r} is still running (workflow {wid}); "
            "let it finish or cancel it first"
        ) from None
