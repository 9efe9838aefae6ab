"""`liveshift status [ID | --migration NAME]`: phase, per-table progress, gates, errors; `--watch` follows it."""

from __future__ import annotations

import argparse
import asyncio

from temporalio.client import Client

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.cli.process import exit_code_of
from liveshift.cli.render import console, status_view
from liveshift.worker.config import Settings
from liveshift.workflows import client as workflow_client


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "status",
        help="show a migration's phase and progress",
        description="Show a migration's phase, per-table progress, rate, ETA, gates and last error; while a step "
        "waits outside the lock queue, the backends it waits for (pid, transaction age, state, query, lock), and "
        "every backend ended for it (--terminate-blockers-after). "
        "With no id or --migration: the only running migration, else the most recent one. "
        "Exit codes: 0 running or complete, 1 failed or rolled back, 2 unknown migration or Temporal unreachable.",
        run=run,
    )
    add_migration_selector(parser)
    parser.add_argument("--watch", action="store_true", help="redraw until the migration ends (Ctrl-C to stop)")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds between redraws with --watch (default 2)",
    )


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        handle = client.get_workflow_handle(await workflow_client.resolve(client, args.id, args.migration, latest=True))
        out = console()
        while True:
            observed = await workflow_client.observe(handle)
            execution, current, wait = observed.execution, observed.status, observed.lock_wait
            if args.json:
                lock_wait = wait.model_dump(mode="json") if wait else None
                control.emit_json({"execution": execution, **current.model_dump(mode="json"), "lock_wait": lock_wait})
            else:
                if args.watch:
                    out.clear()  # on a terminal only
                link = control.ui_link(handle.id, settings.temporal.namespace)
                out.print(status_view(current, execution, link, wait))
            if not args.watch or execution != "RUNNING":
                return exit_code_of(current.phase)
            await asyncio.sleep(args.interval)

    return control.run_command(args, body)
