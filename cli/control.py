"""What every Temporal-facing command shares: connect, run, refuse in one line, print JSON, link the UI.

What the commands ask of the workflows (start, find, status, requests, follow) is the workflows' own client,
liveshift.workflows.client; its errors, like the CLI's own, become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

from temporalio.client import Client, WorkflowFailureError

from liveshift.cli.config import CliError, connect, settings_from
from liveshift.cli.process import Exit, exit_now
from liveshift.cli.render import console, headline
from liveshift.worker.config import Settings
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import WorkflowClientError
from liveshift.workflows.directory import failure_message

T = TypeVar("T")


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")
    sys.stdout.flush()


def run_command(args: argparse.Namespace, body: Callable[[Client, Settings], Awaitable[int]]) -> NoReturn:
    """Connect with the configured settings and run `body`; a CliError or a refusal of the workflows' client is one
    line on stderr and exit code 2."""

    async def main() -> int:
        settings = settings_from(args)
        client = await connect(settings)
        return await body(client, settings)

    try:
        code = asyncio.run(main())
    except (CliError, WorkflowClientError) as exc:
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
        handle = client.get_workflow_handle(await workflow_client.resolve(client, args.id, args.migration))
        answer = await workflow_client.request(handle, update, arg)
        current = await workflow_client.status(handle)
        if args.json:
            emit_json({"ok": True, "request": update, "answer": answer, **current.model_dump(mode="json")})
        else:
            out = console()
            out.print(f"{done or update}: {current.migration} ({handle.id})" + (f": {answer}" if answer else ""))
            out.print(headline(current))
        return Exit.OK

    return run_command(args, body)


async def ask_worker(
    client: Client,
    settings: Settings,
    workflow: str,
    request: Any,
    result_type: type[T],
    *,
    id_prefix: str,
    summary: str,
    answer_within_s: float,
) -> T:
    """Run a one-activity workflow (history, drift) on the worker's task queue and wait for its answer; a refusal,
    or no worker answering within `answer_within_s`, is a CliError."""
    handle = await client.start_workflow(
        workflow,
        request,
        id=f"{id_prefix}/{uuid.uuid4().hex[:12]}",
        task_queue=settings.temporal.task_queue,
        result_type=result_type,
        execution_timeout=timedelta(seconds=answer_within_s + 60),
        static_summary=summary,
    )
    try:
        return await asyncio.wait_for(handle.result(), answer_within_s)
    except WorkflowFailureError as exc:
        raise CliError(f"refused: {failure_message(exc)}") from None
    except TimeoutError:
        await handle.terminate("no worker answered")
        raise CliError(
            f"no liveshift worker answered on task queue {settings.temporal.task_queue!r} "
            f"within {answer_within_s:.0f}s: is one running?"
        ) from None
