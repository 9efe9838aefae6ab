"""Starting a migration workflow the one right way: derived id, UI summary, search attributes, memo.

The CLI's `liveshift start` and the tests call `start_migration`; a second migration of tables
already in flight is refused and names the running one.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from liveshift.errors import MigrationStateError
from liveshift.workflows.models import (
    SA_MIGRATION,
    SA_PHASE,
    SA_TABLES,
    SA_TARGET,
    TASK_QUEUE,
    WORKFLOW_NAME,
    MigrationInput,
    MigrationStatus,
    workflow_id,
)


def summary(request: MigrationInput) -> str:
    """One line for the Temporal UI's workflow list: what this migration does, where."""
    ops = ", ".join(f"{op.op_name} {'/'.join(op.tables())}" for op in request.migration.operations)
    return f"liveshift {request.migration.name} on {request.target}: {ops}"[:400]


async def start_migration(
    client: Client, request: MigrationInput, task_queue: str = TASK_QUEUE
) -> WorkflowHandle[object, MigrationStatus]:
    wid = workflow_id(request.target, request.migration)
    tables = request.migration.tables()
    try:
        return await client.start_workflow(
            WORKFLOW_NAME,
            request,
            id=wid,
            task_queue=task_queue,
            result_type=MigrationStatus,
            # a finished migration of these tables may be followed by another; a running one may not
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_PHASE, "starting"),
                    SearchAttributePair(SA_TABLES, tables),
                    SearchAttributePair(SA_TARGET, request.target),
                    SearchAttributePair(SA_MIGRATION, request.migration.name),
                ]
            ),
            memo={"migration": request.migration.name, "target": request.target, "tables": tables},
            static_summary=summary(request),
            static_details=f"schema `{request.migration.schema_name}`, tables {', '.join(tables)}",
        )
    except WorkflowAlreadyStartedError:
        running = client.get_workflow_handle(wid)
        name = (await (await running.describe()).memo()).get("migration", "?")
        raise MigrationStateError(
            f"migration {name!r} of {', '.join(tables)} on target {request.target!r} is still running "
            f"(workflow {wid}); finish or roll it back first"
        ) from None
