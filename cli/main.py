"""`liveshift …`: each command is a module in cli/commands with `register(subparsers)`.

Exit codes (cli/process.py): 0 success, 1 migration failed or rolled back, 2 bad input or refused request.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import liveshift.cli.commands
from liveshift.cli.process import Exit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liveshift",
        description="Zero-downtime schema migrations for live PostgreSQL, as durable Temporal workflows.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(liveshift.cli.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"liveshift.cli.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
