"""The one client of liveshift's workflows: start, find, status, requests, follow.

The CLI and the tests both use it; it knows Temporal and the workflows' payloads, not the terminal. Every
failure an operator should read is a `WorkflowClientError` whose message is one line (the CLI prints it and
exits 2). Requests are Temporal Updates: the workflow's validator refuses what cannot apply, and the refusal's
own message is the error's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from liveshift.activities.migration import MigrationActivities
from liveshift.activities.payloads import ProgressReport
from liveshift.lifecycle import TERMINAL, Phase
from liveshift.values import LockDetails, LockWait
from liveshift.workflows import progress
from liveshift.workflows.directory_models import (
    DIRECTORY_WORKFLOW,
    DirectoryInput,
    DirectoryStatus,
    directory_workflow_id,
)
from liveshift.workflows.models import (
    SA_MIGRATION,
    SA_PHASE,
    SA_TABLES,
    SA_TARGET,
    STATUS,
    TASK_QUEUE,
    WORKFLOW_NAME,
    MigrationInput,
    MigrationStatus,
    activity_target,
    summary,
    workflow_id,
)

# the activity whose heartbeat details carry a backfill partition's progress
BACKFILL_ACTIVITY = MigrationActivities.backfill_partition.__name__


class WorkflowClientError(Exception):
    """What went wrong, in one line an operator can act on."""


class AlreadyRunning(WorkflowClientError):
    """A migration of the same tables (or a directory run on the same target) is still running."""


class NotFound(WorkflowClientError):
    """No such migration or workflow."""


class Refused(WorkflowClientError):
    """A request the workflow (or Temporal) refused."""


class NoAnswer(WorkflowClientError):
    """The workflow did not answer its status query."""


# starting


async def start_migration(
    client: Client, request: MigrationInput, task_queue: str = TASK_QUEUE
) -> WorkflowHandle[object, MigrationStatus]:
    """Start a migration the one right way: derived id, UI summary, search attributes, memo. A second migration
    of tables already in flight is refused and names the running one."""
    wid = workflow_id(activity_target(request), request.migration)
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
        raise AlreadyRunning(
            f"migration {name!r} of {', '.join(tables)} on target {request.target!r} is still running "
            f"(workflow {wid}); finish or roll it back first"
        ) from None


async def start_directory(
    client: Client, request: DirectoryInput, pending: int, task_queue: str = TASK_QUEUE
) -> WorkflowHandle[object, DirectoryStatus]:
    """Start a migrations directory run: one per target at a time. `pending`: how many files the run will apply,
    for the UI's one-line summary."""
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
        raise AlreadyRunning(
            f"a migrations directory run on target {request.target!r} is still running (workflow {wid}); "
            "let it finish or cancel it first"
        ) from None


# finding


def execution_status_name(status: int | None) -> str:
    if status is None:
        return "UNKNOWN"
    return WorkflowExecutionStatus.Name(status).removeprefix("WORKFLOW_EXECUTION_STATUS_")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def list_migrations(client: Client, *, running_only: bool = False, limit: int = 100) -> list[WorkflowExecution]:
    query = f"WorkflowType = {_quote(WORKFLOW_NAME)}"
    if running_only:
        query += " AND ExecutionStatus = 'Running'"
    out = []
    async for execution in client.list_workflows(query, limit=limit):
        out.append(execution)
    return out


def phase_of(execution: WorkflowExecution) -> str:
    return execution.typed_search_attributes.get(SA_PHASE) or "-"


def migration_of(execution: WorkflowExecution) -> str:
    return execution.typed_search_attributes.get(SA_MIGRATION) or "-"


async def resolve(client: Client, workflow_id: str | None, migration: str | None, latest: bool = False) -> str:
    """The workflow id named, or the one of migration NAME (latest run), or the only running migration
    (with `latest`: else the most recent one)."""
    if workflow_id:
        return workflow_id
    if migration:
        query = f"WorkflowType = {_quote(WORKFLOW_NAME)} AND {SA_MIGRATION.name} = {_quote(migration)}"
        async for execution in client.list_workflows(query, limit=1):
            return execution.id
        raise NotFound(f"no migration named {migration!r} (liveshift list shows the known ones)")
    running = await list_migrations(client, running_only=True, limit=10)
    if len(running) == 1:
        return running[0].id
    if not running and latest:
        recent = await list_migrations(client, limit=1)
        if recent:
            return recent[0].id
    if not running:
        raise NotFound("no migration is running; name one: ID or --migration NAME")
    names = ", ".join(f"{migration_of(e)} ({e.id})" for e in running)
    raise NotFound(f"{len(running)} migrations are running, name one: {names}")


# status


async def _description(handle: WorkflowHandle[Any, Any]) -> WorkflowExecutionDescription:
    try:
        return await handle.describe(rpc_timeout=timedelta(seconds=15))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no migration workflow {handle.id!r}") from None
        raise NoAnswer(f"cannot describe {handle.id}: {exc.message}") from None


def _execution(description: WorkflowExecutionDescription) -> str:
    return execution_status_name(description.raw_description.workflow_execution_info.status)


async def describe(handle: WorkflowHandle[Any, Any]) -> str:
    """The workflow execution's status: RUNNING, COMPLETED, …"""
    return _execution(await _description(handle))


async def pending_heartbeats(description: WorkflowExecutionDescription) -> list[tuple[str, list[Any]]]:
    """Each pending activity's type and last heartbeat details, decoded. Workflow code never sees heartbeats
    (they go to Temporal, not into history): `describe()` has them, as the Temporal UI shows them."""
    pending = description.raw_description.pending_activities
    return [(p.activity_type.name, await pydantic_data_converter.decode(p.heartbeat_details.payloads)) for p in pending]


def lock_details(heartbeats: list[tuple[str, list[Any]]]) -> LockDetails | None:
    """The report of a lock-taking phase among the heartbeats (activities/reporter.py: LockReporter), if any."""
    for _, details in heartbeats:
        for detail in details:
            if isinstance(detail, dict) and "lock_wait" in detail:
                return LockDetails.model_validate(detail)
    return None


def with_lock_details(current: MigrationStatus, locks: LockDetails | None) -> MigrationStatus:
    """`current` naming also the backends the running phase has ended so far (the workflow learns of them when
    the phase's activity completes)."""
    if locks is None:
        return current
    known = {(b.pid, b.xact_start) for b in current.terminated_blockers}
    live = [b for b in locks.terminated if (b.pid, b.xact_start) not in known]
    return current.model_copy(update={"terminated_blockers": [*current.terminated_blockers, *live]})


@dataclass
class Observed:
    """What `liveshift status` shows, from one describe() and one status query."""

    execution: str  # RUNNING, COMPLETED, …
    status: MigrationStatus  # the query's, with the live heartbeat details merged in
    lock_wait: LockWait | None  # what the running step waits for outside the lock queue, if anything


async def observe(handle: WorkflowHandle[Any, Any]) -> Observed:
    """The status query merged with the pending activities' heartbeat details: the running backfill partitions'
    progress and the running lock step's wait (read with one describe(), as the Temporal UI shows them)."""
    description = await _description(handle)
    current = await _queried_status(handle)
    if current.phase == Phase.BACKFILL:
        current = progress.with_live_reports(current, await live_reports(description))
    locks = lock_details(await pending_heartbeats(description))
    return Observed(_execution(description), with_lock_details(current, locks), locks.lock_wait if locks else None)


async def status(handle: WorkflowHandle[Any, Any]) -> MigrationStatus:
    """`observe(handle).status`: the status `liveshift status` shows."""
    return (await observe(handle)).status


async def live_reports(description: WorkflowExecutionDescription) -> list[ProgressReport]:
    """Each running backfill partition's latest report: its pending activity's heartbeat details (what the
    Temporal UI shows too), with the failure its last attempt ended with, if it retries."""
    out = []
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name != BACKFILL_ACTIVITY or not pending.heartbeat_details.payloads:
            continue
        [report] = await pydantic_data_converter.decode(pending.heartbeat_details.payloads, [ProgressReport])
        if pending.attempt > 1 and pending.HasField("last_failure"):
            report = report.model_copy(update={"error": pending.last_failure.message.splitlines()[0]})
        out.append(report)
    return out


async def _queried_status(handle: WorkflowHandle[Any, Any]) -> MigrationStatus:
    try:
        return await handle.query(STATUS, result_type=MigrationStatus, rpc_timeout=timedelta(seconds=15))
    except WorkflowQueryFailedError as exc:
        raise NoAnswer(f"the status query failed: {exc}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no migration workflow {handle.id!r}") from None
        try:
            # the handle's result type is fixed where it was made; a plain handle returns the payload as data
            result = await asyncio.wait_for(handle.result(), 5)
            return result if isinstance(result, MigrationStatus) else MigrationStatus.model_validate(result)
        except (TimeoutError, WorkflowFailureError):
            raise NoAnswer(
                f"{handle.id} did not answer the status query ({exc.message}): is a liveshift worker running?"
            ) from None


# requests


def _root_message(exc: BaseException) -> str:
    """The innermost failure's own message (the workflow's refusal), without type prefixes."""
    cause: BaseException | None = exc
    message = str(exc)
    while cause is not None:
        if isinstance(cause, ApplicationError | FailureError) and cause.message:
            message = cause.message
        cause = cause.__cause__
    return message


async def request(handle: WorkflowHandle[Any, Any], update: str, arg: Any = None) -> Any:
    """Send an Update; a refusal (validator or handler failure, closed or unknown workflow) is `Refused`."""
    try:
        if arg is None:
            return await handle.execute_update(update, rpc_timeout=timedelta(seconds=30))
        return await handle.execute_update(update, arg, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateFailedError as exc:
        raise Refused(f"refused: {_root_message(exc)}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"refused: {handle.id} is not running ({exc.message})") from None
        raise Refused(f"refused: {exc.message}") from None


# following


async def follow(
    handle: WorkflowHandle[Any, Any],
    on_status: Callable[[MigrationStatus], None],
    *,
    stop_at_gate: bool = True,
    interval: float = 1.0,
) -> MigrationStatus:
    """Poll the status until the migration ends (or, with `stop_at_gate`, waits for an approval)."""
    last: MigrationStatus | None = None
    while True:
        try:
            current = await status(handle)
        except WorkflowClientError:
            if last is None:
                raise
            current = last
        last = current
        on_status(current)
        if current.phase in TERMINAL or (stop_at_gate and current.waiting_for is not None):
            return current
        if await describe(handle) != "RUNNING":
            return await status(handle)
        await asyncio.sleep(interval)
