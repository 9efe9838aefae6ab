"""`liveshift resume`: continue a paused migration from its checkpoints."""

from __future__ import annotations

import argparse

from cli import control
from cli.config import add_connection_options, add_json_option
from workflows.models import RESUME


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="resume a paused migration",
        description="Resume a paused migration from its checkpoints. "
        "Exit codes: 0 resumed, 2 refused (not paused) or unknown migration.",
    )
    control.add_migration_selector(parser)
    add_json_option(parser)
    add_connection_options(parser)
    parser.set_defaults(run=lambda args: control.run_request(args, RESUME, done="resumed"))
