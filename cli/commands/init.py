"""`liveshift init --target NAME [--schema S]`: register a schema's base version before its first migration."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from liveshift.cli import control
from liveshift.cli.directory import ask_history
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit
from liveshift.worker.config import Settings
from liveshift.workflows.directory_models import HistoryRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "init",
        run=run,
        help="register a schema's base version, so applications can use liveshift.client before any migration",
        description="Create the schema's base version (<schema>_base: views over its tables as they are, with "
        "their grants) and register it as the schema's current version, so that liveshift.client and "
        "liveshift.use_version work before the first migration, and that migration's rollback keeps the version. "
        "Idempotent: a schema that already has a version keeps it (and it is printed). Refused while a migration of "
        "the schema is in flight. Run by the worker (it alone reaches the target). "
        "Exit codes: 0, 2 unknown target or schema, refused, no worker answering or Temporal unreachable.",
    )
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")
    parser.add_argument("--schema", default="public", help="the schema holding the tables (default: public)")


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        request = HistoryRequest(action="init", target=args.target, schema=args.schema)
        answer = await ask_history(client, settings, request)
        if args.json:
            control.emit_json({"schema": args.schema, "version": answer.version, "created": answer.created})
        elif answer.created:
            print(f"schema {args.schema!r} on target {args.target!r}: version {answer.version} registered")
        else:
            print(f"schema {args.schema!r} on target {args.target!r} already has version {answer.version}")
        return Exit.OK

    return control.run_command(args, body)
