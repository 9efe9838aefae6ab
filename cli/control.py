"""What the commands ask of Temporal: find a migration's workflow, read its status, send it a request, follow it.

Requests are Temporal Updates: the workflow's validator refuses what cannot apply, and the refusal's message
reaches the operator as one line (CliError, exit code 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import quote

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
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from liveshift.activities.migration import MigrationActivities
from liveshift.activities.payloads import ProgressReport
from liveshift.cli.config import CliError, connect, settings_from
from liveshift.cli.process import FINAL_PHASES, Exit, exit_now
from liveshift.cli.render import console, headline
from liveshift.lifecycle import Phase
from liveshift.values import LockDetails, LockWait
from liveshift.worker.config import Settings
from liveshift.workflows import progress
from liveshift.workflows.models import SA_MIGRATION, SA_PHASE, STATUS, WORKFLOW_NAME, MigrationStatus

# the activity whose heartbeat details carry a backfill partition's progress
BACKFILL_ACTIVITY = MigrationActivities.backfill_partition.__name__


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
        raise CliError(f"no migration named {migration!r} (liveshift list shows the known ones)")
    running = await list_migrations(client, running_only=True, limit=10)
    if len(running) == 1:
        return running[0].id
    if not running and latest:
        recent = await list_migrations(client, limit=1)
        if recent:
            return recent[0].id
    if not running:
        raise CliError("no migration is running; name one: ID or --migration NAME")
    names = ", ".join(f"{migration_of(e)} ({e.id})" for e in running)
    raise CliError(f"{len(running)} migrations are running, name one: {names}")


async def _description(handle: WorkflowHandle[Any, Any]) -> WorkflowExecutionDescription:
    try:
        return await handle.describe(rpc_timeout=timedelta(seconds=15))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no migration workflow {handle.id!r}") from None
        raise CliError(f"cannot describe {handle.id}: {exc.message}") from None


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
        raise CliError(f"the status query failed: {exc}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no migration workflow {handle.id!r}") from None
        try:
            # the handle's result type is fixed where it was made; a plain handle returns the payload as data
            result = await asyncio.wait_for(handle.result(), 5)
            return result if isinstance(result, MigrationStatus) else MigrationStatus.model_validate(result)
        except (TimeoutError, WorkflowFailureError):
            raise CliError(
                f"{handle.id} did not answer the status query ({exc.message}): is a liveshift worker running?"
            ) from None


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
    """Send an Update; a refusal (validator or handler failure, closed or unknown workflow) becomes a CliError."""
    try:
        if arg is None:
            return await handle.execute_update(update, rpc_timeout=timedelta(seconds=30))
        return await handle.execute_update(update, arg, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateFailedError as exc:
        raise CliError(f"refused: {_root_message(exc)}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"refused: {handle.id} is not running ({exc.message})") from None
        raise CliError(f"refused: {exc.message}") from None


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
        except CliError:
            if last is None:
                raise
            current = last
        last = current
        on_status(current)
        if current.phase in FINAL_PHASES or (stop_at_gate and current.waiting_for is not None):
            return current
        if await describe(handle) != "RUNNING":
            return await status(handle)
        await asyncio.sleep(interval)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")
    sys.stdout.flush()


def run_command(args: argparse.Namespace, body: Callable[[Client, Settings], Awaitable[int]]) -> NoReturn:
    """Connect with the configured settings and run `body`; a CliError is one line on stderr and exit code 2."""

    async def main() -> int:
        settings = settings_from(args)
        client = await connect(settings)
        return await body(client, settings)

    try:
        code = asyncio.run(main())
    except CliError as exc:
        code = refuse(args, exc)
    exit_now(code)


def refuse(args: argparse.Namespace, exc: Exception) -> Exit:
    """Bad input or a refusal: one line `liveshift <command>: <why>` on stderr (and `{"ok": false}` with --json)."""
    sys.stderr.write(f"liveshift {args.command}: {exc}\n")
    if getattr(args, "json", False):
        emit_json({"ok": False, "error": str(exc)})
    return Exit.REFUSED


def ui_link(workflow_id: str, namespace: str) -> str | None:
    """Link to the workflow in the Temporal UI when LIVESHIFT_UI_URL says where the UI is."""
    base = os.environ.get("LIVESHIFT_UI_URL")
    if not base:
        return None
    return f"{base.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


def run_request(args: argparse.Namespace, update: str, arg: Any = None, done: str = "") -> NoReturn:
    """pause/resume/rollback/approve: send the Update to the selected migration and show the status after it."""

    async def body(client: Client, settings: Settings) -> int:
        handle = client.get_workflow_handle(await resolve(client, args.id, args.migration))
        answer = await request(handle, update, arg)
        current = await status(handle)
        if args.json:
            emit_json({"ok": True, "request": update, "answer": answer, **current.model_dump(mode="json")})
        else:
            out = console()
            out.print(f"{done or update}: {current.migration} ({handle.id})" + (f": {answer}" if answer else ""))
            out.print(headline(current))
        return Exit.OK

    return run_command(args, body)
