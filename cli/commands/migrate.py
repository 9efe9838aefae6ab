"""`liveshift migrate DIR --target NAME`: apply a migrations directory's pending files in order, one durable run."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from liveshift.cli import control
from liveshift.cli.commands.start import add_migration_options, options_from
from liveshift.cli.config import CliError
from liveshift.cli.directory import add_started_by_option, ask_history, file_line, read_directory, started_by
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.errors import SpecError
from liveshift.worker.config import Settings
from liveshift.workflows.client import AlreadyRunning, start_directory
from liveshift.workflows.directory_models import DIRECTORY_STATUS, DirectoryInput, DirectoryStatus, HistoryRequest
from liveshift.workflows.models import STATUS, MigrationStatus

QUERY_ATTEMPTS = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "migrate",
        run=run,
        help="apply a migrations directory in order",
        description="Validate every migration file of DIR (*.yaml, *.yml, *.json, in name order), then apply the "
        "files the target's history does not record as applied, one after the other, as one durable workflow "
        "with a child migration workflow per file. Options and gates apply to each file (approve each one's "
        "gates with `liveshift approve`). A file that rolls back or fails stops the run; a later `migrate` takes "
        "it up again. An applied file that has since been edited, and a new file that sorts before an applied "
        "one, are refused. Exit codes: 0 started, nothing to apply, or (with --wait) all applied or waiting at a "
        "gate; 1 a file rolled back or failed (--wait); 2 bad input or refused.",
    )
    parser.add_argument("directory", metavar="DIR", help="the migrations directory")
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")
    add_migration_options(parser)
    add_started_by_option(parser)
    parser.add_argument("--wait", action="store_true", help="follow the run until it ends or a file waits at a gate")


def run(args: argparse.Namespace) -> int:
    try:
        files = read_directory(args.directory)
        request = DirectoryInput(
            target=args.target, files=files, options=options_from(args), started_by=started_by(args)
        )
    except (SpecError, CliError) as exc:
        return control.refuse(args, exc)

    async def body(client: Client, settings: Settings) -> int:
        check = HistoryRequest(action="pending", target=args.target, files=[f.ref for f in files])
        todo = [ref.file for ref in (await ask_history(client, settings, check)).files]
        if not todo:
            if args.json:
                control.emit_json({"ok": True, "workflow_id": None, "pending": []})
            else:
                print(f"nothing to apply: all {len(files)} files of {args.directory} are applied on {args.target}")
            return Exit.OK
        try:
            handle = await start_directory(client, request, len(todo), settings.temporal.task_queue)
        except AlreadyRunning as exc:
            raise CliError(f"refused: {exc}") from None
        if not args.wait:
            if args.json:
                control.emit_json(
                    {"ok": True, "workflow_id": handle.id, "run_id": handle.result_run_id, "pending": todo}
                )
            else:
                print(f"started {len(todo)} of {len(files)} migrations on {args.target}: {', '.join(todo)}")
                print(f"workflow {handle.id}")
                print(f"follow: liveshift history --target {args.target}")
            return Exit.OK
        return await wait(client, handle, args.json)

    return control.run_command(args, body)


async def directory_status(handle: WorkflowHandle[object, DirectoryStatus]) -> DirectoryStatus:
    """The run's status query; a run that cannot answer yet (its first workflow task) is asked again."""
    attempts = 0
    while True:
        try:
            return await handle.query(DIRECTORY_STATUS, result_type=DirectoryStatus, rpc_timeout=timedelta(seconds=15))
        except RPCError as exc:
            attempts += 1
            if attempts == QUERY_ATTEMPTS:
                raise CliError(f"{handle.id} did not answer ({exc.message}): is a liveshift worker running?") from None
            await asyncio.sleep(1.0)


async def follow(
    client: Client, handle: WorkflowHandle[object, DirectoryStatus], quiet: bool
) -> tuple[DirectoryStatus, MigrationStatus | None]:
    """Until the run ends, or the file in flight waits at a gate (then also that file's migration status)."""
    shown: dict[str, str] = {}
    while True:
        status = await directory_status(handle)
        for f in status.files if status.state != "checking" else []:  # states are known once checked
            if not quiet and shown.get(f.file) != f.state:
                print(file_line(f), flush=True)
            shown[f.file] = f.state
        if status.state in ("complete", "stopped"):
            return status, None
        current = status.current
        child = await at_gate(client, current.workflow_id) if current and current.workflow_id else None
        if child is not None:
            return status, child
        await asyncio.sleep(1.0)


async def at_gate(client: Client, workflow_id: str) -> MigrationStatus | None:
    """The file in flight's migration status if it waits at a gate; None otherwise, and while it cannot answer
    (just started: its first workflow task has not run yet)."""
    try:
        child = await client.get_workflow_handle(workflow_id).query(
            STATUS, result_type=MigrationStatus, rpc_timeout=timedelta(seconds=15)
        )
    except (RPCError, WorkflowQueryFailedError):
        return None
    return child if child.waiting_for is not None else None


async def wait(client: Client, handle: WorkflowHandle[object, DirectoryStatus], as_json: bool) -> int:
    status, at_gate = await follow(client, handle, as_json)
    code = 1 if status.state == "stopped" else 0
    if as_json:
        waiting = at_gate.waiting_for if at_gate else None
        control.emit_json({"ok": code == 0, **status.model_dump(mode="json"), "waiting_for": waiting})
    elif at_gate is not None:
        print(f"{at_gate.migration} waits for approval of {at_gate.waiting_for}")
        print(f"next: liveshift approve {at_gate.waiting_for} {at_gate.workflow_id}")
    elif status.state == "stopped":
        print(f"stopped: {status.reason}")
    else:
        print(f"all {len(status.files)} files applied on {status.target}")
    return code
