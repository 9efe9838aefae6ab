"""The application's p99 beside loads that are not liveshift: what this machine allows a backfill at all.

pgbench (C, no Python in the client) runs TPC-B at a fixed rate (-R) for a window of its own, once idle and once
beside each load, every transaction's latency logged (-l):

- `cpu`: one backend counting a generate_series, one CPU busy and no WAL written;
- `update`: one plain `UPDATE` of a whole 3,000,000-row table after another, committed asynchronously as the
  backfill's batches are: the WAL of a single UPDATE, the reference the backfill's speed is measured against;
- `update-sync`: the same, committed synchronously.

So if a plain UPDATE alone takes p99 past 2x the idle window, no backfill that writes at a single UPDATE's speed
can keep p99 within 2x on this machine, whatever it does about locks.

    python -m bench.p99_control            # its own embedded PostgreSQL in a temporary directory
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.pgbench_waits import PGBENCH, logged_latencies, p99
from liveshift.cli.stack.postgres import EmbeddedPostgres

LOADS = {
    "cpu": ("", "SELECT count(*) FROM generate_series(1, 20000000)"),
    "update": ("SET synchronous_commit = off", "UPDATE big SET v = v + 1"),
    "update-sync": ("SET synchronous_commit = on", "UPDATE big SET v = v + 1"),
}


class Load(threading.Thread):
    """One session running `statement` again and again until stopped."""

    def __init__(self, dsn: str, setup: str, statement: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.setup, self.statement = dsn, setup, statement
        self.halted = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if self.setup:
                conn.execute(self.setup)
            while not self.halted.is_set():
                conn.execute(self.statement)


def window(dsn: str, seconds: int, rate: int) -> list[tuple[float, float]]:
    """pgbench's tpcb-like script at `rate` transactions/s for `seconds`: (start, latency) of each transaction."""
    logs = Path(tempfile.mkdtemp(prefix="liveshift-p99-"))
    command = [PGBENCH, "-n", "-b", "tpcb-like", "-c", "4", "-j", "2", "-R", str(rate), "-T", str(seconds)]
    subprocess.run([*command, "-l", f"--log-prefix={logs / 'pgbench'}", dsn], check=True, capture_output=True)
    return logged_latencies(logs)


def trial(dsn: str, name: str, seconds: int, rate: int) -> str:
    load = Load(dsn, *LOADS[name]) if name in LOADS else None
    if load:
        load.start()
        time.sleep(0.5)
    try:
        latencies = window(dsn, seconds, rate)
    finally:
        if load:
            load.halted.set()
            load.join()
    tail, count = p99(latencies, 0.0, float("inf"))
    median = sorted(latency for _, latency in latencies)[count // 2]
    return f"| {name} | {tail * 1000:.1f} ms | {median * 1000:.1f} ms | {count:,} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="each window")
    parser.add_argument("--rate", type=int, default=200, help="pgbench transactions/s")
    parser.add_argument("--rounds", type=int, default=2, help="times each window is run, idle ones between")
    args = parser.parse_args()
    postgres = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="liveshift-p99-pg-"))).start()
    try:
        dsn = postgres.dsn()
        subprocess.run([PGBENCH, "-i", "-q", "-s", "10", dsn], check=True, capture_output=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE big AS SELECT g AS id, g AS v FROM generate_series(1, 3000000) g")
            conn.execute("VACUUM big")
        print("| window | p99 | p50 | transactions |\n|---|---|---|---|")
        for _ in range(args.rounds):
            for name in ("idle", *LOADS):
                print(trial(dsn, name, args.seconds, args.rate), flush=True)
    finally:
        postgres.destroy()


if __name__ == "__main__":
    main()
