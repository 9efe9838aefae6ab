"""`liveshift pause`: the backfill stops at a batch boundary within about a second; nothing is lost."""

from __future__ import annotations

import argparse

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.workflows.models import PAUSE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "pause",
        help="pause a migration",
        description="Pause a migration: the backfill stops at a batch boundary. "
        "Exit codes: 0 paused, 2 refused (already paused, nothing to pause) or unknown migration.",
        run=lambda args: control.run_request(args, PAUSE, done="paused"),
    )
    add_migration_selector(parser)
