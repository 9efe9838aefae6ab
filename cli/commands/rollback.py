"""`liveshift rollback [--reason TEXT]`: undo a migration before contract, keeping every write."""

from __future__ import annotations

import argparse

from cli import control
from cli.config import add_connection_options, add_json_option
from workflows.models import ROLLBACK, RollbackRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="roll a migration back (before contract)",
        description="Roll a migration back: apps return to blue, green's artefacts are dropped, no write is lost. "
        "Exit codes: 0 rollback requested, 2 refused (contract has begun, already ended) or unknown migration.",
    )
    control.add_migration_selector(parser)
    parser.add_argument("--reason", default="requested by operator", help="recorded in the workflow's status")
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(
        run=lambda args: control.run_request(
            args, ROLLBACK, RollbackRequest(reason=args.reason), done="rollback requested"
        )
    )
