"""`liveshift pause`: the backfill stops at a batch boundary within about a second; nothing is lost."""

from __future__ import annotations

import argparse

from cli import control
from cli.config import add_connection_options, add_json_option
from workflows.models import PAUSE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pause",
        help="pause a migration",
        description="Pause a migration: the backfill stops at a batch boundary. "
        "Exit codes: 0 paused, 2 refused (already paused, nothing to pause) or unknown migration.",
    )
    control.add_migration_selector(parser)
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(run=lambda args: control.run_request(args, PAUSE, done="paused"))
