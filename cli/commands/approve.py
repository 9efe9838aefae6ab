"""`liveshift approve cutover|contract`: open a gate the migration waits at."""

from __future__ import annotations

import argparse

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.workflows.models import APPROVE, ApproveRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "approve",
        help="approve the cutover or contract gate",
        description="Approve a gate: cutover (flip apps to green) or contract (drop the old shape, irreversible). "
        "Exit codes: 0 approved, 2 refused (the migration is not waiting at that gate) or unknown migration.",
        run=lambda args: control.run_request(
            args, APPROVE, ApproveRequest(gate=args.gate), done=f"approved {args.gate}"
        ),
    )
    parser.add_argument("gate", choices=["cutover", "contract"])
    add_migration_selector(parser)
