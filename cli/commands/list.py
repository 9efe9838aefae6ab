"""`liveshift list`: migrations known to Temporal's visibility, with their phase."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from cli import control
from cli.config import add_connection_options, add_json_option
from worker.config import Settings
from workflows.models import SA_TABLES, SA_TARGET


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list migrations and their phases",
        description="List migration workflows (newest first) with phase, target and tables, from Temporal's "
        "visibility. Exit codes: 0, 2 Temporal unreachable.",
    )
    parser.add_argument("--running", action="store_true", help="only migrations still running")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        executions = await control.list_migrations(client, running_only=args.running, limit=args.limit)
        rows = [
            {
                "workflow_id": e.id,
                "run_id": e.run_id,
                "migration": control.migration_of(e),
                "phase": control.phase_of(e),
                "target": e.typed_search_attributes.get(SA_TARGET) or "-",
                "tables": list(e.typed_search_attributes.get(SA_TABLES) or []),
                "execution": e.status.name if e.status else "UNKNOWN",
                "started": e.start_time.isoformat(timespec="seconds"),
            }
            for e in executions
        ]
        if args.json:
            control.emit_json(rows)
            return 0
        if not rows:
            print("no migrations")
            return 0
        header = ("MIGRATION", "PHASE", "EXECUTION", "TARGET", "TABLES", "STARTED", "WORKFLOW ID")
        table = [header] + [
            (
                r["migration"],
                r["phase"],
                r["execution"].lower(),
                r["target"],
                ",".join(r["tables"]) or "-",
                r["started"],
                r["workflow_id"],
            )
            for r in rows
        ]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(header) - 1)]
        for row in table:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
        return 0

    return control.run_command(args, body)
