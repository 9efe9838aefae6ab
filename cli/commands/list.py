"""`liveshift list`: migrations known to Temporal's visibility, with their phase."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from temporalio.client import Client, WorkflowExecution

from liveshift.cli import control
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.cli.render import console, phase_text
from liveshift.worker.config import Settings
from liveshift.workflows import client as workflow_client
from liveshift.workflows.models import SA_TABLES, SA_TARGET

COLUMNS = ("MIGRATION", "PHASE", "EXECUTION", "TARGET", "TABLES", "STARTED", "WORKFLOW ID")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "list",
        help="list migrations and their phases",
        description="List migration workflows (newest first) with phase, target and tables, from Temporal's "
        "visibility. Exit codes: 0, 2 Temporal unreachable.",
        run=run,
    )
    parser.add_argument("--running", action="store_true", help="only migrations still running")
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="at most this many (default 50)")


def _row(e: WorkflowExecution) -> dict[str, Any]:
    return {
        "workflow_id": e.id,
        "run_id": e.run_id,
        "migration": workflow_client.migration_of(e),
        "phase": workflow_client.phase_of(e),
        "target": e.typed_search_attributes.get(SA_TARGET) or "-",
        "tables": list(e.typed_search_attributes.get(SA_TABLES) or []),
        "execution": e.status.name if e.status else "UNKNOWN",
        "started": e.start_time.isoformat(timespec="seconds"),
    }


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(*COLUMNS, box=None, pad_edge=False, header_style="bold")
    for r in rows:
        table.add_row(
            r["migration"],
            phase_text(r["phase"]),
            r["execution"].lower(),
            r["target"],
            ",".join(r["tables"]) or "-",
            r["started"],
            r["workflow_id"],
        )
    return table


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        executions = await workflow_client.list_migrations(client, running_only=args.running, limit=args.limit)
        rows = [_row(e) for e in executions]
        if args.json:
            control.emit_json(rows)
        else:
            console().print(_table(rows) if rows else "no migrations")
        return Exit.OK

    return control.run_command(args, body)
