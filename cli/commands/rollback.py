"""`liveshift rollback [--reason TEXT]`: undo a migration before contract, keeping every write."""

from __future__ import annotations

import argparse

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.workflows.models import ROLLBACK, RollbackRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "rollback",
        help="roll a migration back (before contract)",
        description="Roll a migration back: apps return to blue, green's artefacts are dropped, no write is lost. "
        "Exit codes: 0 rollback requested, 2 refused (contract has begun, already ended) or unknown migration.",
        run=lambda args: control.run_request(
            args, ROLLBACK, RollbackRequest(reason=args.reason), done="rollback requested"
        ),
    )
    add_migration_selector(parser)
    parser.add_argument("--reason", default="requested by operator", help="recorded in the workflow's status")
