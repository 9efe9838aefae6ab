"""A fleet rollout of 100 tenant databases against the same migration run on them one by one.

    python -m bench.fleet [--tenants 100] [--rows 1000] [--max-concurrency 10]

One embedded PostgreSQL, a Temporal dev server and one worker process (bench/stack.py). Two sets of `--tenants`
databases, each with a seeded `users`: the first migrated by one `FleetWorkflow` (canary of 1, then waves of
`--max-concurrency`), the second by one `MigrationWorkflow` after the other, both after one warm-up migration.
Prints, as markdown for docs/benchmark.md: both wall times, the history events of the fleet's parent (each run,
with continue-as-new) and of its children (min / median / max), and the worker's resident memory (first sample
and peak, bench/memory.py).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time

import psycopg
from psycopg import sql
from temporalio.client import Client

from bench.memory import RssSampler
from bench.stack import BenchStack
from liveshift.fleet.members import Member
from liveshift.spec import parse_migration
from liveshift.workflows.client import start_migration
from liveshift.workflows.fleet_client import start_fleet
from liveshift.workflows.fleet_models import FleetInput, Waves
from liveshift.workflows.models import MigrationInput, MigrationOptions

MIGRATION = {
    "name": "users_email_lower",
    "operations": [
        {
            "op": "add_column",
            "table": "users",
            "column": {"name": "email_lower", "type": "text", "nullable": False},
            "up": "lower(email)",
        }
    ],
}
OPTIONS = MigrationOptions(auto_cutover=True, soak_seconds=0, drain_seconds=0)
MB = 1024 * 1024


def make_databases(stack: BenchStack, prefix: str, count: int, rows: int) -> list[Member]:
    members = []
    for i in range(count):
        name = f"{prefix}_{i:03d}"
        with psycopg.connect(stack.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(stack.postgres.dsn(name), autocommit=True) as conn:  # type: ignore[union-attr]
            conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)")
            conn.execute("INSERT INTO users (email) SELECT 'U' || g || '@X.org' FROM generate_series(1, %s) g", (rows,))
        members.append(Member(key=name, target="pg", database=name))
    return members


async def history_length(client: Client, workflow_id: str, run_id: str | None = None) -> int:
    return len((await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events)


async def run_fleet(client: Client, members: list[Member], concurrency: int) -> tuple[float, list[int], list[int]]:
    request = FleetInput(
        name=f"bench-{int(time.time())}",
        migration=parse_migration(MIGRATION),
        options=OPTIONS,
        members=members,
        waves=Waves(canary=1, batch_size=concurrency, max_concurrency=concurrency),
    )
    started = time.monotonic()
    handle = await start_fleet(client, request)
    result = await handle.result()
    wall = time.monotonic() - started
    assert result.state == "complete", result.reason
    runs = [e.run_id async for e in client.list_workflows(f"WorkflowId = '{handle.id}'")]
    parent = [await history_length(client, handle.id, run) for run in runs]
    children = [await history_length(client, m.workflow_id or "") for m in result.members]
    return wall, parent, children


async def run_one_by_one(client: Client, members: list[Member]) -> float:
    started = time.monotonic()
    for m in members:
        request = MigrationInput(
            target=m.target, database=m.database, migration=parse_migration(MIGRATION), options=OPTIONS
        )
        status = await (await start_migration(client, request)).result()
        assert status.phase == "complete", status.last_error
    return time.monotonic() - started


async def bench(args: argparse.Namespace) -> None:
    stack = BenchStack().start()
    try:
        fleet_members = make_databases(stack, "fleet", args.tenants, args.rows)
        one_by_one = make_databases(stack, "seq", args.tenants, args.rows)
        warm_up = make_databases(stack, "warm", 1, args.rows)
        stack.targets["pg"] = stack.admin_dsn
        stack.start_worker()
        client = await stack.client()
        await stack.wait_for_worker(client)
        assert stack.worker is not None
        await run_one_by_one(client, warm_up)  # the worker's first workflows pay its imports: neither run does
        with RssSampler(stack.worker.pid) as rss:
            fleet_wall, parent, children = await run_fleet(client, fleet_members, args.max_concurrency)
        sequential = await run_one_by_one(client, one_by_one)
        print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
              f"{__import__('os').cpu_count()} CPUs; {args.tenants} tenants x {args.rows} rows")  # fmt: skip
        print("| measure | value |\n|---|---|")
        print(f"| fleet wall time (max concurrency {args.max_concurrency}) | {fleet_wall:.1f} s |")
        print(f"| one by one wall time | {sequential:.1f} s ({sequential / fleet_wall:.1f}x the fleet's) |")
        print(f"| parent history events, per run ({len(parent)} runs) | {', '.join(map(str, parent))} |")
        median = statistics.median(children)
        print(f"| child history events, min / median / max | {min(children)} / {median:.0f} / {max(children)} |")
        print(f"| worker RSS, first sample / peak during the fleet | {rss.first / MB:.0f} / {rss.peak / MB:.0f} MiB |")
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1000, help="rows of each tenant's users table")
    parser.add_argument("--max-concurrency", type=int, default=10)
    asyncio.run(bench(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
