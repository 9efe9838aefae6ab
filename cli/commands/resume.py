"""`liveshift resume`: continue a paused migration from its checkpoints."""

from __future__ import annotations

import argparse

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.workflows.models import RESUME


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "resume",
        help="resume a paused migration",
        description="Resume a paused migration from its checkpoints. "
        "Exit codes: 0 resumed, 2 refused (not paused) or unknown migration.",
        run=lambda args: control.run_request(args, RESUME, done="resumed"),
    )
    add_migration_selector(parser)
