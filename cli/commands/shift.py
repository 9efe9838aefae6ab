"""`liveshift shift PERCENT`: set green's share of clients, up or down, between cutover and contract."""

from __future__ import annotations

import argparse

from liveshift.cli import control
from liveshift.cli.options import add_command, add_migration_selector
from liveshift.workflows.models import SHIFT, ShiftRequest


def percent(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"PERCENT {value!r}: a whole number 0..100") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"PERCENT {number}: the share is 0..100")
    return number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "shift",
        help="set green's share of clients (0..100)",
        description="Set the share of clients liveshift.version_for sends to green, up or down, at once: any time "
        "between cutover and contract (the awaiting_contract phase, scheduled steps and pauses included; a shift "
        "during scheduled steps stops them, and the operator drives from then on). `shift 0` sends everyone back to "
        "blue; contract needs 100%. Exit codes: 0 shifted, 2 refused (before cutover, once contract has begun, after a "
        "rollback), bad PERCENT, or unknown migration.",
        run=lambda args: control.run_request(args, SHIFT, ShiftRequest(percent=args.percent), done="shifted"),
    )
    parser.add_argument("percent", type=percent, metavar="PERCENT", help="green's share of clients, 0..100")
    add_migration_selector(parser)
