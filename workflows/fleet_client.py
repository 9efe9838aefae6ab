"""The client of fleet rollouts (FleetWorkflow): start, status, requests. Its failures are workflows/client.py's
WorkflowClientError family, one line each, which the CLI prints and exits 2 on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from liveshift.workflows.client import AlreadyRunning, NoAnswer, NotFound, request
from liveshift.workflows.fleet_models import FLEET_STATUS, FLEET_WORKFLOW, FleetInput, FleetStatus, fleet_workflow_id
from liveshift.workflows.models import SA_MIGRATION, SA_TABLES, TASK_QUEUE


def fleet_summary(request: FleetInput) -> str:
    """One line for the Temporal UI's workflow list."""
    members = (
        f"{len(request.members)} members" if request.members else f"the members of {request.fleet or 'a selector'}"
    )
    flip = ", one flip" if request.one_flip else ""
    return f"liveshift fleet {request.name}: {request.migration.name} across {members}{flip}"[:400]


async def start_fleet(
    client: Client, request: FleetInput, task_queue: str = TASK_QUEUE
) -> WorkflowHandle[object, FleetStatus]:
    """One rollout per name at a time; a finished one's name may be used again."""
    wid = fleet_workflow_id(request.name)
    try:
        return await client.start_workflow(
            FLEET_WORKFLOW,
            request,
            id=wid,
            task_queue=task_queue,
            result_type=FleetStatus,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_MIGRATION, request.migration.name),
                    SearchAttributePair(SA_TABLES, request.migration.tables()),
                ]
            ),
            memo={"fleet": request.name, "migration": request.migration.name, "started_by": request.started_by},
            static_summary=fleet_summary(request),
        )
    except WorkflowAlreadyStartedError:
        raise AlreadyRunning(f"fleet rollout {request.name!r} is still running (workflow {wid})") from None


def fleet_handle(client: Client, name: str) -> WorkflowHandle[Any, FleetStatus]:
    return client.get_workflow_handle(fleet_workflow_id(name), result_type=FleetStatus)


async def fleet_status(handle: WorkflowHandle[Any, Any]) -> FleetStatus:
    """The FLEET_STATUS query (a finished rollout answers it too, from its last state)."""
    try:
        return await handle.query(FLEET_STATUS, result_type=FleetStatus, rpc_timeout=timedelta(seconds=15))
    except WorkflowQueryFailedError as exc:
        raise NoAnswer(f"the fleet status query failed: {exc}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(f"no fleet rollout {handle.id!r}") from None
        raise NoAnswer(f"{handle.id} did not answer ({exc.message}): is a liveshift worker running?") from None


async def fleet_request(handle: WorkflowHandle[Any, Any], update: str, arg: Any = None) -> str:
    """An Update to the rollout; a refusal is workflows/client.py's `Refused`."""
    return str(await request(handle, update, arg))
