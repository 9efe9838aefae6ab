"""`liveshift start FILE --target NAME`: validate the file locally, then start its migration workflow."""

from __future__ import annotations

import argparse

from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus

from liveshift.cli import control
from liveshift.cli.config import CliError
from liveshift.cli.options import (
    add_command,
    add_lock_options,
    add_replication_options,
    add_space_options,
    lock_policy_from,
    replication_from,
    space_throttle,
)
from liveshift.cli.process import Exit, exit_code_of
from liveshift.cli.render import LiveLine, console, live_line, status_view
from liveshift.errors import SpecError
from liveshift.rehearsal.report import render as render_rehearsal
from liveshift.spec import load_migration
from liveshift.worker.config import Settings
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import AlreadyRunning, start_migration
from liveshift.workflows.models import MigrationInput, MigrationOptions, workflow_id


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "start",
        help="start a migration",
        description="Validate a migration file, then start it as a durable workflow against a named target. "
        "With --rehearse the worker first runs the whole migration on a scratch clone of the target (every phase, "
        "rollback from each, the application's recorded statements under both versions) and fails the migration "
        "before prepare if the rehearsal does. Exit codes: 0 started (with --wait: completed or waiting at a "
        "gate), 1 failed or rolled back, 2 bad input or refused (e.g. the tables already have a migration in flight).",
        run=run,
    )
    parser.add_argument("file", metavar="FILE", help="migration file (YAML or JSON)")
    parser.add_argument("--target", required=True, help="database target name, resolved by the worker")
    add_migration_options(parser)
    parser.add_argument("--wait", action="store_true", help="follow progress until it ends or waits at a gate")


UNITS = {"s": 1, "m": 60, "h": 3600}


def duration_or_zero(value: str) -> float:
    """90, 90s, 10m, 1h, 0 -> seconds."""
    number, unit = (value[:-1], value[-1]) if value[-1:] in UNITS else (value, "s")
    try:
        seconds = float(number) * UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"duration {value!r}: a number with s, m or h (90s, 10m, 1h)") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"duration {value!r}: must not be negative")
    return seconds


def duration(value: str) -> float:
    """90, 90s, 10m, 1h -> seconds, more than 0."""
    seconds = duration_or_zero(value)
    if seconds == 0:
        raise argparse.ArgumentTypeError(f"duration {value!r}: must be positive")
    return seconds


def step_list(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"steps {value!r}: comma-separated percentages, e.g. 5,25,50,100") from None


def health_from(args: argparse.Namespace) -> dict[str, object] | None:
    if args.health_prometheus:
        if not args.health_query:
            raise CliError("option --health-prometheus: needs --health-query PROMQL")
        return {"kind": "prometheus", "prometheus_url": args.health_prometheus, "query": args.health_query}
    if args.health_query:
        raise CliError("option --health-query: needs --health-prometheus URL")
    if args.health_sql:
        return {"kind": "sql", "query": args.health_sql}
    return None


def options_from(args: argparse.Namespace) -> MigrationOptions:
    throttle: dict[str, object] = {
        key: value
        for key, value in (
            ("initial_batch", args.batch_size),
            ("max_batch", args.max_batch),
            ("target_batch_ms", args.target_batch_ms),
            ("max_rows_per_second", args.max_rows_per_second),
            ("flush_each_batch", args.flush_each_batch or None),
        )
        if value is not None
    } | space_throttle(args)
    replication = replication_from(args)
    if replication:
        throttle["replication"] = replication
    options: dict[str, object] = {"auto_cutover": args.auto_cutover, "rehearse": args.rehearse}
    if throttle:
        options["throttle"] = throttle  # validated with the options: an error names the option's path
    lock = lock_policy_from(args)
    if lock:
        options["lock"] = lock
    for key, value in (
        ("cutover_percent", args.canary),
        ("soak_seconds", args.soak),
        ("drain_seconds", args.drain),
        ("parallelism", args.parallelism),
        ("canary_steps", args.canary_steps),
        ("step_seconds", args.step_every),
        ("health", health_from(args)),
        ("health_interval_s", args.health_interval),
        ("on_unhealthy", args.on_unhealthy),
    ):
        if value is not None:
            options[key] = value
    try:
        return MigrationOptions.model_validate(options)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f"option {'.'.join(str(p) for p in err['loc'])}" if err["loc"] else "options"
        raise CliError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None


def run(args: argparse.Namespace) -> int:
    try:
        migration = load_migration(args.file)
        options = options_from(args)
    except (SpecError, CliError) as exc:
        return control.refuse(args, exc)

    async def body(client: Client, settings: Settings) -> int:
        wid = workflow_id(args.target, migration)
        tables = ", ".join(f"{migration.schema_name}.{t}" for t in migration.tables())
        request = MigrationInput(target=args.target, migration=migration, options=options, file=args.file)
        try:
            handle = await start_migration(client, request, settings.temporal.task_queue)
        except AlreadyRunning as exc:
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
        final = await workflow_client.follow(handle, lambda s: None if args.json else line.show(live_line(s), s.phase))
        line.done()
        code = exit_code_of(final.phase)
        if args.json:
            control.emit_json({"ok": code == Exit.OK, **final.model_dump(mode="json"), "ui": link})
        else:
            execution = await workflow_client.describe(handle)
            ended = None if execution == WorkflowExecutionStatus.RUNNING.name else execution
            if final.rehearsal is not None:
                out.print(render_rehearsal(final.rehearsal), end="")
            out.print(status_view(final, ended, link))
        return code

    return control.run_command(args, body)


def add_migration_options(parser: argparse.ArgumentParser) -> None:
    """The MigrationOptions flags (`start`, and `migrate` for each file of a directory); `options_from` reads them."""
    parser.add_argument("--auto-cutover", action="store_true", help="cut over without waiting for approval")
    parser.add_argument(
        "--rehearse",
        action="store_true",
        help="first run the whole migration on a scratch clone of the target, on the worker (it needs [scratch] "
        "<target> in the worker's configuration, or a target role that may create databases); a failed "
        "rehearsal fails the migration before anything touches the real tables",
    )
    parser.add_argument(
        "--canary", type=int, metavar="PERCENT", help="share of clients sent to green at cutover, 1..100 (default 100)"
    )
    parser.add_argument(
        "--soak", type=float, metavar="SECONDS", help="contract automatically after this soak (default: on approval)"
    )
    parser.add_argument(
        "--drain",
        type=duration_or_zero,
        metavar="DURATION",
        help="how long a version's views outlive the share change that took its last clients, before contract or a "
        "rollback after cutover drops them: at least the clients' ttl plus their longest request (default 5s)",
    )
    parser.add_argument("--parallelism", type=int, metavar="N", help="backfill partitions per table, 1..64 (default 1)")
    parser.add_argument("--batch-size", type=int, metavar="ROWS", help="initial backfill batch size (default 1000)")
    parser.add_argument("--max-batch", type=int, metavar="ROWS", help="largest adaptive batch (default 50000)")
    parser.add_argument(
        "--target-batch-ms",
        type=int,
        metavar="MS",
        help="batch time the adaptive size aims for (default 30: an application write to a row of the running "
        "batch waits up to that long)",
    )
    parser.add_argument("--max-rows-per-second", type=float, metavar="N", help="cap on backfill rows/s (default: none)")
    parser.add_argument(
        "--flush-each-batch",
        action="store_true",
        help="commit each backfill batch synchronously: the backfill waits for its own WAL flush instead of the "
        "application's next commits (lower application p99, a slower backfill; default: only the last batch waits)",
    )
    add_space_options(parser)
    add_lock_options(parser)
    add_replication_options(parser)
    add_shifting_options(parser)


def add_shifting_options(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_argument_group("progressive shifting (after cutover; docs/design.md, Progressive shifting)")
    steps.add_argument(
        "--canary-steps",
        type=step_list,
        metavar="P1,P2,...",
        help="green's share at each step, e.g. 5,25,50,100 (cutover itself sends 0%%; replaces --canary)",
    )
    steps.add_argument(
        "--step-every",
        type=duration,
        metavar="DURATION",
        help="dwell of each step: 90s, 10m, 1h (required with --canary-steps)",
    )
    health = steps.add_mutually_exclusive_group()
    health.add_argument(
        "--health-prometheus", metavar="URL", help="Prometheus server for --health-query (needs --canary-steps)"
    )
    health.add_argument(
        "--health-sql", metavar="SELECT", help="SQL on the target, healthy while it returns true (needs --canary-steps)"
    )
    steps.add_argument(
        "--health-query",
        metavar="PROMQL",
        help="with --health-prometheus: healthy while it returns a non-empty, all non-zero result",
    )
    steps.add_argument(
        "--health-interval", type=duration, metavar="DURATION", help="health check during a dwell (default 30s)"
    )
    steps.add_argument(
        "--on-unhealthy",
        choices=["wait", "rollback"],
        help="after green is back at 0%%: wait at the contract gate (default) or roll back",
    )
