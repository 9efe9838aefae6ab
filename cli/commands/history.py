"""`liveshift history --target NAME`: what ran on a target, in order, from its liveshift.history table."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from liveshift.cli import control
from liveshift.cli.directory import ask_history, entry_json, history_table
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.worker.config import Settings
from liveshift.workflows.directory_models import HistoryRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "history",
        run=run,
        help="list the migrations that ran on a target",
        description="List every attempt recorded on a target by `liveshift migrate` and `liveshift baseline`, "
        "oldest first: file, checksum, start, end, duration, outcome (running, complete, rolled_back, failed, "
        "baseline), who started it and why it ended. Read by the worker (it alone reaches the target). "
        "Exit codes: 0, 2 unknown target, no worker answering or Temporal unreachable.",
    )
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        answer = await ask_history(client, settings, HistoryRequest(action="entries", target=args.target))
        if args.json:
            control.emit_json([entry_json(e) for e in answer.entries])
        else:
            print(history_table(answer.entries))
        return Exit.OK

    return control.run_command(args, body)
