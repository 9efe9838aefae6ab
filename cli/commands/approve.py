"""`liveshift approve cutover|contract`: open a gate the migration waits at."""

from __future__ import annotations

import argparse

from cli import control
from cli.config import add_connection_options, add_json_option
from workflows.models import APPROVE, ApproveRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "approve",
        help="approve the cutover or contract gate",
        description="Approve a gate: cutover (flip apps to green) or contract (drop the old shape, irreversible). "
        "Exit codes: 0 approved, 2 refused (the migration is not waiting at that gate) or unknown migration.",
    )
    parser.add_argument("gate", choices=["cutover", "contract"])
    control.add_migration_selector(parser)
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(
        run=lambda args: control.run_request(
            args, APPROVE, ApproveRequest(gate=args.gate), done=f"approved {args.gate}"
        )
    )
