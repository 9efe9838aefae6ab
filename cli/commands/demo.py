"""`liveshift demo`: a realistic migration of a live table on the embedded stack, with application traffic.

An `accounts` table (a million rows by default) is migrated by one file of three operations while blue (old)
and green (new) application threads read and write it: a NOT NULL, UNIQUE `email_lower` derived from `email`,
`amount` from integer to bigint, and `note` renamed to `memo`. At cutover the application is redeployed as one
that ships both versions and follows the flag (liveshift.version_for, request by request), and the migration
shifts its users 10% -> 50% -> 100% to green on a schedule, gated by a health check (PromQL on the application's
per-version error counters with --health-prometheus, else SQL on the database: no request waiting on a lock for
over 2 seconds). At 100% it approves the contract, and proves that no request failed and no acknowledged write
was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import yaml
from prometheus_client import CollectorRegistry, start_http_server
from psycopg import sql
from rich.console import Group
from rich.table import Table
from rich.text import Text

from liveshift.cli import control
from liveshift.cli.config import CliError, connect
from liveshift.cli.loadgen import LoadGenerator, Report, Version, Workload
from liveshift.cli.options import add_command, add_json_option, add_stack_options
from liveshift.cli.process import FINAL_PHASES, Exit, exit_now, interrupt_on_signals
from liveshift.cli.render import LiveLine, console, duration, live_line, phase_text, progress_line
from liveshift.cli.stack.dev import DevStack
from liveshift.cli.stack.postgres import free_port
from liveshift.health import HealthCheck
from liveshift.spec import parse_migration
from liveshift.worker.config import Settings, TemporalSettings
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    ROLLBACK,
    TASK_QUEUE,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
    RollbackRequest,
)

TARGET = "demo"
DATABASE = "liveshift_demo"
TABLE = "accounts"
MIGRATION = {
    "name": "accounts_v2",
    "schema": "public",
    "operations": [
        {
            "op": "add_column",
            "table": TABLE,
            "column": {"name": "email_lower", "type": "text", "nullable": False, "unique": True},
            "up": "lower(email)",
        },
        {"op": "alter_column", "table": TABLE, "column": "amount", "type": "bigint"},
        {"op": "rename_column", "table": TABLE, "column": "note", "to": "memo"},
    ],
}
STEPS = [10, 50, 100]
# healthy while green serves requests with under 1% of them failing (the series exist from the start)
PROMQL = (
    'sum(rate(liveshift_demo_errors_total{version="green"}[30s])) '
    '<= bool 0.01 * sum(rate(liveshift_demo_requests_total{version="green"}[30s]))'
)
# without Prometheus: no application request has waited on a lock for over 2 seconds
SQL_CHECK = (
    "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND now() - query_start > interval '2 seconds'"
)
# phases in which expand is done and the migration goes on: the green application can run
GREEN_PHASES = {"backfill", "verify", "awaiting_cutover", "cutover", "awaiting_contract", "contract"}
BLUE_SCHEMA = "public_base"
GREEN_SCHEMA = f"public_{MIGRATION['name']}"


def _email(n: int) -> str:
    # seed rows use "Seed<id>@…": application writes never collide with them on the unique email_lower
    return f"App{n}@Example.com"


BLUE = Version(BLUE_SCHEMA, lambda n: {"email": _email(n), "amount": n, "note": f"note {n}"})
GREEN = Version(
    GREEN_SCHEMA,
    lambda n: {"email": _email(n), "email_lower": _email(n).lower(), "amount": n, "memo": f"note {n}"},
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "demo",
        help="migrate a live table on the embedded stack, with application traffic",
        description=(__doc__ or "").split("\n\n")[1].replace("\n", " ")
        + " Exit codes: 0 the migration completed with 0 application errors and 0 lost writes, 1 otherwise, "
        "2 the stack could not start.",
        run=run,
        json=False,
        connection=False,
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, metavar="N", help="rows in the sample table (default 1,000,000)"
    )
    add_stack_options(parser, "keep the stack's state here (default: a temporary directory)")
    parser.add_argument("--parallelism", type=int, default=2, metavar="N", help="backfill partitions (default 2)")
    parser.add_argument(
        "--rate", type=float, default=25.0, metavar="N", help="requests/s per application thread (default 25)"
    )
    parser.add_argument("--keep-running", action="store_true", help="keep the stack up after the summary (Ctrl-C)")
    parser.add_argument(
        "--step-every", type=float, default=5.0, metavar="SECONDS", help="dwell of each shift step (default 5)"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve the application's per-version counters here (default: a free port)",
    )
    parser.add_argument(
        "--health-prometheus",
        metavar="URL",
        help="a Prometheus scraping --metrics-port: the health check reads green's error rate there",
    )
    add_json_option(parser, "print the summary as one JSON line")


def create_sample_table(dsn: str, rows: int, say: LiveLine) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(TABLE)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigserial PRIMARY KEY, email text NOT NULL, amount integer NOT NULL, note text)"
            ).format(sql.Identifier(TABLE))
        )
        chunk = 100_000
        for start in range(1, rows + 1, chunk):
            stop = min(rows, start + chunk - 1)
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (email, amount, note) SELECT 'Seed' || g || '@Example.com', g %% 100000, "
                    "'seed ' || g FROM generate_series(%s::bigint, %s::bigint) g"
                ).format(sql.Identifier(TABLE)),
                (start, stop),
            )
            say.show(progress_line(f"creating {TABLE}:", stop, rows, f"{stop:,}/{rows:,} rows"), "create")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(TABLE)))


@dataclass
class Outcome:
    status: MigrationStatus
    report: Report
    lost_writes: int
    writes_checked: int
    ui_url: str
    seconds: float
    shifting: dict[str, int]  # requests of the flag-following application, by the version that served them

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def reason(self) -> str | None:
        """Why the demo failed (None: it did not): the migration's own error first, then the application's."""
        status, errors = self.status, self.report.total.errors
        if status.phase != "complete":
            why = status.rollback_reason or status.last_error or "no reason recorded"
            return f"the migration ended {status.phase}: {why}"
        if errors:
            return f"{errors} application request(s) failed: {self.report.total.first_errors[0]}"
        if self.lost_writes:
            return f"{self.lost_writes} acknowledged write(s) lost"
        return None

    def phase_table(self) -> list[tuple[str, float]]:
        spans: list[tuple[str, float]] = []
        transitions = self.status.transitions
        for current, following in itertools.pairwise(transitions):
            spans.append((current.phase, (following.at - current.at).total_seconds()))
        return spans

    def rows_per_second(self) -> float:
        backfill = sum(secs for phase, secs in self.phase_table() if phase == "backfill")
        return self.status.rows_done / backfill if backfill > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        total = self.report.total
        return {
            "ok": self.ok,
            "reason": self.reason,
            "migration": self.status.migration,
            "phase": self.status.phase,
            "phases": [{"phase": p, "seconds": round(s, 3)} for p, s in self.phase_table()],
            "rows": self.status.rows_done,
            "rows_per_second": round(self.rows_per_second(), 1),
            "requests": total.requests,
            "errors": total.errors,
            "first_errors": total.first_errors,
            "longest_stall_ms": round(total.max_latency * 1000, 1),
            "p99_ms": round(total.p99 * 1000, 2),
            "requests_by_version": {side: r.requests for side, r in self.report.sides.items()},
            "shifting_requests_by_version": self.shifting,
            "shifts": [{"percent": c.percent, "at": c.at.isoformat(), "by": c.by} for c in self.status.shifts],
            "lost_writes": self.lost_writes,
            "writes_checked": self.writes_checked,
            "ui": self.ui_url,
            "seconds": round(self.seconds, 1),
        }

    def shift_line(self) -> str:
        shifts = self.status.shifts
        if not shifts:
            return "never shifted"
        return " -> ".join(f"{c.percent}% (+{(c.at - shifts[0].at).total_seconds():.0f}s)" for c in shifts)

    def view(self) -> Group:
        total = self.report.total
        sides = ", ".join(f"{s.side} {s.requests:,}" for s in self.report.sides.values())
        phases = Table.grid(padding=(0, 2))
        for phase, secs in self.phase_table():
            extra = f"{self.rows_per_second():,.0f} rows/s" if phase == "backfill" else ""
            phases.add_row(f"  {phase}", Text(duration(secs), justify="right"), extra)
        phases.add_row("  total", Text(duration(self.seconds), justify="right"), "")
        facts = Table.grid(padding=(0, 1))
        facts.add_row("application requests served:", f"{total.requests:,} ({sides})")
        facts.add_row("application errors:", "\n".join([str(total.errors), *(f"  {e}" for e in total.first_errors)]))
        facts.add_row(
            "longest application stall:", f"{total.max_latency * 1000:,.0f} ms (p99 {total.p99 * 1000:,.1f} ms)"
        )
        facts.add_row("green's share:", self.shift_line())
        facts.add_row(
            "while shifting, served by:", f"blue {self.shifting['blue']:,}, green {self.shifting['green']:,} requests"
        )
        facts.add_row(
            "lost writes:", f"{self.lost_writes} ({self.writes_checked:,} rows with acknowledged writes checked)"
        )
        result = (
            Text("result: OK", style="bold green") if self.ok else Text(f"result: FAILED: {self.reason}", "bold red")
        )
        title = Text.assemble(
            f"\nliveshift demo: {self.status.migration} on {self.status.rows_total:,} rows: ",
            phase_text(self.status.phase),
        )
        return Group(title, "phases:", phases, facts, f"Temporal UI: {self.ui_url}", result)


async def drive(stack: DevStack, args: argparse.Namespace, say: LiveLine) -> Outcome:
    assert stack.temporal is not None
    client = await connect(Settings(temporal=TemporalSettings(address=stack.temporal.address)))
    await stack.wait_for_worker(client)
    dsn = stack.targets()[TARGET]
    await asyncio.to_thread(create_sample_table, dsn, args.rows, say)
    say.done()

    load = LoadGenerator(dsn, Workload(table=TABLE, blue=BLUE, green=GREEN, seed_keys=range(1, args.rows + 1)))
    load.start("blue", writers=2, readers=2, rate=args.rate)
    say.note(f"blue application running (2 writers, 2 readers at {args.rate:g} req/s each)")

    registry = CollectorRegistry()
    load.export_metrics(registry)
    port = args.metrics_port or free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    say.note(f"application metrics (requests and errors per version): http://127.0.0.1:{port}/metrics")

    migration = parse_migration(MIGRATION, file="demo")
    options = shifting_options(args)
    started = time.monotonic()
    request = MigrationInput(target=TARGET, migration=migration, options=options)
    handle = await start_migration(client, request, stack.task_queue)
    ui_url = stack.temporal.workflow_url(handle.id)
    say.note(f"migration {migration.name} started: {ui_url}")
    say.note("  " + yaml.safe_dump(MIGRATION, sort_keys=False).strip().replace("\n", "\n  "))

    try:
        await follow(handle, load, args, say)
    finally:
        say.done()
        await asyncio.to_thread(load.stop)
    final = await workflow_client.status(handle)
    # every acknowledged write, blue's included, must read back through the shape that is left: green's after
    # contract (blue's writes through `up`), blue's after a rollback
    versions = {"final": GREEN} if final.phase == "complete" else {"blue": BLUE}
    lost = len(await asyncio.to_thread(load.lost_writes, versions))
    shifting = load.requests_by_version("flag")
    seconds = time.monotonic() - started
    return Outcome(final, load.report(), lost, load.acknowledged_writes(), ui_url, seconds, shifting)


def shifting_options(args: argparse.Namespace) -> MigrationOptions:
    """Cut over at 0%, then 10% -> 50% -> 100% every --step-every seconds, each step health-gated."""
    if args.health_prometheus:
        check = HealthCheck(kind="prometheus", prometheus_url=args.health_prometheus, query=PROMQL)
    else:
        check = HealthCheck(kind="sql", query=SQL_CHECK)
    return MigrationOptions(
        auto_cutover=True,
        parallelism=args.parallelism,
        progress_interval_s=1.0,
        canary_steps=STEPS,
        step_seconds=args.step_every,
        health=check,
        health_interval_s=max(1.0, args.step_every / 2),
    )


def traffic_line(load: LoadGenerator, status: MigrationStatus) -> Table:
    traffic = load.report().total
    by_version = load.requests_by_version()
    share = f", green {status.green_percent}%" if status.green_percent is not None else ""
    counts = f"blue {by_version['blue']:,} / green {by_version['green']:,}"
    return live_line(status, f"|  app {traffic.requests:,} req ({counts}), {traffic.errors} errors{share}")


async def follow(handle: Any, load: LoadGenerator, args: argparse.Namespace, say: LiveLine) -> None:
    """Redeploy the application as the phases go (blue; blue and green; one following the flag), and answer the
    gates: contract once the steps have brought green to 100%, a rollback if they stopped short of it."""
    green_started = following = False
    while True:
        current = await workflow_client.status(handle)
        say.show(traffic_line(load, current), f"{current.phase} {current.green_percent}")
        if not green_started and current.phase in GREEN_PHASES:
            load.start("green", writers=1, readers=1, rate=args.rate)
            green_started = True
            say.note("expand done: green application running (1 writer, 1 reader)")
        if not following and current.phase == "awaiting_contract":
            # cut over (at 0%): the application is redeployed as one that follows the flag, user by user
            load.start_following_flag(writers=2, readers=2, rate=args.rate)
            await asyncio.to_thread(load.stop, "blue")
            await asyncio.to_thread(load.stop, "green")
            following = True
            say.note(f"cut over: the application follows the flag; shifting {' -> '.join(f'{p}%' for p in STEPS)}")
        if current.waiting_for == "contract":
            if current.green_percent != 100:
                why = current.health.value if current.health else "no health value"
                reason = f"the shift stopped at {current.green_percent}%: health check failed ({why})"
                await workflow_client.request(handle, ROLLBACK, RollbackRequest(reason=reason))
            else:
                say.note("green has 100% of the users; approving contract")
                await workflow_client.request(handle, APPROVE, ApproveRequest(gate="contract"))
        if current.phase in FINAL_PHASES:
            return
        if current.waiting_for == "cutover":
            await workflow_client.request(handle, APPROVE, ApproveRequest(gate="cutover"))
        await asyncio.sleep(0.5)


def _refuse(args: argparse.Namespace, reason: str, code: int) -> int:
    """The demo could not run to its summary: the reason on stderr and, with --json, as the summary."""
    sys.stderr.write(f"liveshift demo: {reason}\n")
    if args.json:
        control.emit_json({"ok": False, "reason": reason, "error": reason})
    return code


def run(args: argparse.Namespace) -> NoReturn:
    exit_now(_run(args))


def _run(args: argparse.Namespace) -> int:
    interrupt_on_signals()
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-demo-")) if temporary else args.data_dir
    stack = DevStack(
        data_dir,
        temporal_port=args.port,
        ui_port=args.ui_port,
        extra_databases={TARGET: DATABASE},
        # a queue only this run's worker polls: a stray worker from an earlier stack on the same address (it keeps
        # reconnecting) would otherwise take activities for a target it does not know, failing the migration
        task_queue=f"{TASK_QUEUE}-demo-{uuid.uuid4().hex[:8]}",
    )
    line = LiveLine(sys.stderr if args.json else sys.stdout)
    began = time.monotonic()
    try:
        try:
            stack.start()
        except Exception as exc:
            return _refuse(args, f"the embedded stack did not start: {exc}", Exit.REFUSED)
        assert stack.temporal is not None
        line.note(
            f"embedded stack up in {time.monotonic() - began:.1f}s: Temporal {stack.temporal.address}, "
            f"UI {stack.temporal.ui_url}"
        )
        try:
            outcome = asyncio.run(drive(stack, args, line))
        except (CliError, RuntimeError, TimeoutError) as exc:  # e.g. the worker exited, Temporal unreachable
            return _refuse(args, str(exc), Exit.FAILED)
        out = console()
        if args.json:
            control.emit_json(outcome.as_json())
        else:
            out.print(outcome.view())
        if args.keep_running:
            out.print(f"the stack stays up for the UI ({stack.temporal.ui_url}); Ctrl-C stops it")
            while True:
                time.sleep(3600)
        return Exit.OK if outcome.ok else Exit.FAILED
    except KeyboardInterrupt:
        return Exit.OK if args.keep_running else Exit.INTERRUPTED
    finally:
        stack.stop()
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
