"""`liveshift status [ID | --migration NAME]`: phase, per-table progress, gates, errors; `--watch` follows it."""

from __future__ import annotations

import argparse
import asyncio
import sys

from temporalio.client import Client

from cli import control
from cli.commands.start import exit_code, ui_link
from cli.config import add_connection_options, add_json_option
from cli.render import status_text
from worker.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show a migration's phase and progress",
        description="Show a migration's phase, per-table progress, rate, ETA, gates and last error. "
        "Exit codes: 0 running or complete, 1 failed or rolled back, 2 unknown migration or Temporal unreachable.",
    )
    control.add_migration_selector(parser)
    parser.add_argument("--watch", action="store_true", help="redraw until the migration ends (Ctrl-C to stop)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between redraws with --watch")
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        handle = client.get_workflow_handle(await control.resolve(client, args.id, args.migration, latest=True))
        while True:
            execution = await control.describe(handle)
            current = await control.status(handle)
            if args.json:
                control.emit_json({"execution": execution, **current.model_dump(mode="json")})
            else:
                if args.watch:
                    print("\x1b[2J\x1b[H" if sys.stdout.isatty() else "", end="")
                print(status_text(current, execution, ui_link(handle.id, settings.temporal.namespace)), flush=True)
            if not args.watch or execution != "RUNNING":
                return exit_code(current)
            await asyncio.sleep(args.interval)

    return control.run_command(args, body)
