"""`liveshift start FILE --target NAME`: validate the file locally, then start its migration workflow."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus

from cli import control
from cli.config import CliError
from cli.options import add_command, add_lock_options, lock_policy_from
from cli.process import Exit, exit_code_of
from cli.render import LiveLine, console, live_line, status_view
from liveshift.backfill import Throttle
from liveshift.errors import MigrationStateError, SpecError
from liveshift.spec import load_migration
from worker.config import Settings
from workflows.models import MigrationInput, MigrationOptions, workflow_id
from workflows.starter import start_migration


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "start",
        help="start a migration",
        description="Validate a migration file, then start it as a durable workflow against a named target. "
        "Exit codes: 0 started (with --wait: completed or waiting at a gate), 1 failed or rolled back, "
        "2 bad input or refused (e.g. the tables already have a migration in flight).",
        run=run,
    )
    parser.add_argument("file", help="migration file (YAML or JSON)")
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")
    parser.add_argument("--auto-cutover", action="store_true", help="cut over without waiting for approval")
    parser.add_argument("--canary", type=int, metavar="PERCENT", help="share of clients sent to green at cutover")
    parser.add_argument(
        "--soak", type=float, metavar="SECONDS", help="contract automatically after this soak (default: on approval)"
    )
    parser.add_argument("--parallelism", type=int, help="backfill partitions per table (default 1)")
    parser.add_argument("--batch-size", type=int, metavar="ROWS", help="initial backfill batch size")
    parser.add_argument("--max-batch", type=int, metavar="ROWS", help="largest adaptive batch")
    parser.add_argument(
        "--target-batch-ms",
        type=int,
        metavar="MS",
        help="batch time the adaptive size aims for (default 30: an application write to a row of the running "
        "batch waits up to that long)",
    )
    parser.add_argument("--max-rows-per-second", type=float, metavar="N", help="cap on backfill rows/s")
    parser.add_argument("--wait", action="store_true", help="follow progress until it ends or waits at a gate")
    add_lock_options(parser)


def options_from(args: argparse.Namespace) -> MigrationOptions:
    throttle = {
        key: value
        for key, value in (
            ("initial_batch", args.batch_size),
            ("max_batch", args.max_batch),
            ("target_batch_ms", args.target_batch_ms),
            ("max_rows_per_second", args.max_rows_per_second),
        )
        if value is not None
    }
    options: dict[str, object] = {"auto_cutover": args.auto_cutover}
    if throttle:
        options["throttle"] = Throttle(**throttle)
    lock = lock_policy_from(args)
    if lock:
        options["lock"] = lock
    for key, value in (
        ("cutover_percent", args.canary),
        ("soak_seconds", args.soak),
        ("parallelism", args.parallelism),
    ):
        if value is not None:
            options[key] = value
    try:
        return MigrationOptions.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CliError(f"option {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def run(args: argparse.Namespace) -> int:
    try:
        migration = load_migration(args.file)
        options = options_from(args)
    except (SpecError, CliError) as exc:
        sys.stderr.write(f"liveshift start: {exc}\n")
        if args.json:
            control.emit_json({"ok": False, "error": str(exc)})
        return Exit.REFUSED

    async def body(client: Client, settings: Settings) -> int:
        wid = workflow_id(args.target, migration)
        tables = ", ".join(f"{migration.schema_name}.{t}" for t in migration.tables())
        request = MigrationInput(target=args.target, migration=migration, options=options, file=args.file)
        try:
            handle = await start_migration(client, request, settings.temporal.task_queue)
        except MigrationStateError as exc:
            raise CliError(f"refused: {exc}") from None
        link = control.ui_link(wid, settings.temporal.namespace)
        out = console()
        if not args.wait:
            if args.json:
                control.emit_json({"ok": True, "workflow_id": wid, "run_id": handle.result_run_id, "ui": link})
            else:
                out.print(f"started migration {migration.name} on {args.target} ({tables})")
                out.print(f"workflow {wid}")
                if link:
                    out.print(f"ui: {link}")
                out.print(f"follow: liveshift status {wid} --watch")
            return Exit.OK
        if not args.json:
            out.print(f"started migration {migration.name} on {args.target} ({tables}): workflow {wid}")
        line = LiveLine()
        final = await control.follow(handle, lambda s: None if args.json else line.show(live_line(s), s.phase))
        line.done()
        code = exit_code_of(final.phase)
        if args.json:
            control.emit_json({"ok": code == Exit.OK, **final.model_dump(mode="json"), "ui": link})
        else:
            execution = await control.describe(handle)
            ended = None if execution == WorkflowExecutionStatus.RUNNING.name else execution
            out.print(status_view(final, ended, link))
        return code

    return control.run_command(args, body)
