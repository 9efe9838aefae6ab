"""`liveshift baseline DIR --target NAME --upto FILE`: record a database's existing schema as the starting point."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from liveshift.cli import control
from liveshift.cli.directory import add_started_by_option, ask_history, read_directory, started_by
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.errors import SpecError
from liveshift.worker.config import Settings
from liveshift.workflows.directory_models import HistoryRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "baseline",
        run=run,
        help="record a directory's files up to one as already applied",
        description="For a database whose schema already has the shape of a directory's first files (made "
        "before liveshift, or by another tool): record every file up to and including --upto as applied "
        "(outcome baseline) without running it, so `liveshift migrate` starts after it. Files already recorded "
        "are left as they are; an edited applied file or a gap is refused. "
        "Exit codes: 0 recorded (or nothing new to record), 2 bad input or refused.",
    )
    parser.add_argument("directory", metavar="DIR", help="the migrations directory (*.yaml, *.yml, *.json)")
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")
    parser.add_argument("--upto", required=True, metavar="FILE", help="the last file to record (its name in DIR)")
    add_started_by_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        files = read_directory(args.directory)
        if args.upto not in {f.ref.file for f in files}:
            raise SpecError(f"no file {args.upto!r} in the directory", file=args.directory, field="--upto")
    except SpecError as exc:
        return control.refuse(args, exc)
    request = HistoryRequest(
        action="baseline", target=args.target, files=[f.ref for f in files], upto=args.upto, started_by=started_by(args)
    )

    async def body(client: Client, settings: Settings) -> int:
        recorded = [f.file for f in (await ask_history(client, settings, request)).files]
        if args.json:
            control.emit_json({"ok": True, "recorded": recorded})
        elif recorded:
            print(f"recorded as applied (baseline) on {args.target}: {', '.join(recorded)}")
        else:
            print(f"nothing to record: every file up to {args.upto} is already applied on {args.target}")
        return Exit.OK

    return control.run_command(args, body)
