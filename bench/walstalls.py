"""Application commit latency while a backfill-like load writes WAL: which server I/O an application waits on.

A writer commits one small UPDATE every 5 ms (synchronous_commit on, as applications run) while the load walks a
table in ~30 ms keyset batches, as liveshift's backfill does, and each slow commit (over 40 ms) is printed with
its wall-clock time, to line up with the server log's checkpoint lines (log_checkpoints is on by default). Loads:

- `async` / `sync`: batches committed with synchronous_commit off (as the backfill does) / on;
- `async:MB` / `sync:MB`: the same, paced to MB megabytes of WAL per second;
- `verify` (after a backfill load): a checkpoint, then a read of the whole table in heap-block chunks (setting
  hint bits on the rows the backfill wrote: a full-page image per page).

    python -m bench.walstalls "host=127.0.0.1 port=5432 dbname=scratch user=postgres" --rows 4000000 async sync:30

It drops and creates the tables `walstalls_load` and `walstalls_app` in that database: use a scratch one.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

import psycopg

SLOW_S = 0.040
WAL_LSN = "SELECT pg_current_wal_insert_lsn()"
WAL_SINCE = "SELECT pg_current_wal_insert_lsn() - %s"


class Writer(threading.Thread):
    """The application: one small UPDATE, committed, every 5 ms; each commit's latency."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            i = 0
            while not self.stop.is_set():
                t = time.perf_counter()
                conn.execute("UPDATE walstalls_app SET v = v + 1 WHERE id = %s", (i % 1000,))
                took = time.perf_counter() - t
                self.latencies.append(took)
                if took > SLOW_S:
                    print(f"  slow commit {took * 1000:.0f} ms at {time.strftime('%H:%M:%S')}", flush=True)
                i += 1
                time.sleep(0.005)


def setup(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS walstalls_load, walstalls_app")
        conn.execute("CREATE TABLE walstalls_app (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO walstalls_app (id) SELECT generate_series(0, 999)")
        conn.execute("CREATE TABLE walstalls_load (id int PRIMARY KEY, email text, amount int, filled bigint)")
        conn.execute(
            "INSERT INTO walstalls_load SELECT g, 'Seed' || g || '@example.com', g FROM generate_series(1, %s) g",
            (rows,),
        )
        conn.execute("VACUUM FREEZE walstalls_load")
        conn.execute("CHECKPOINT")


class WalPace:
    """Counts the WAL written while the load's own statements ran; sleeps to keep it under `mb_per_s`."""

    def __init__(self, conn: psycopg.Connection, mb_per_s: float | None) -> None:
        self.conn, self.cap = conn, mb_per_s * 1e6 if mb_per_s else None
        self.bytes, self.started = 0, time.monotonic()

    def run(self, statement: Callable[[], object]) -> None:
        before = self.conn.execute(WAL_LSN).fetchone()[0]  # type: ignore[index]
        statement()
        self.bytes += int(self.conn.execute(WAL_SINCE, (before,)).fetchone()[0])  # type: ignore[index]
        if self.cap:
            time.sleep(max(0.0, self.bytes / self.cap - (time.monotonic() - self.started)))


def backfill(dsn: str, rows: int, synchronous: bool, mb_per_s: float | None) -> WalPace:
    with psycopg.connect(dsn, autocommit=True) as conn:
        pace, last, size = WalPace(conn, mb_per_s), 0, 5000

        def batch() -> None:
            with conn.transaction():
                if not synchronous:
                    conn.execute("SET LOCAL synchronous_commit = off")
                conn.execute(
                    "UPDATE walstalls_load SET filled = amount WHERE id > %s AND id <= %s", (last, last + size)
                )

        while last < rows:
            t = time.monotonic()
            pace.run(batch)
            last += size
            ratio = 0.030 / max(time.monotonic() - t, 1e-3)
            size = int(max(100, min(50_000, size * min(2.0, max(0.5, ratio)))))
        return pace


def verify(dsn: str, mb_per_s: float | None, chunk_blocks: int = 1000) -> WalPace:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        blocks = int(conn.execute("SELECT pg_relation_size('walstalls_load') / 8192").fetchone()[0])  # type: ignore[index]
        pace = WalPace(conn, mb_per_s)
        for lo in range(0, blocks + 1, chunk_blocks):
            pace.run(
                lambda lo=lo: conn.execute(
                    "SELECT count(*) FROM walstalls_load WHERE ctid >= ('(' || %s || ',0)')::tid "
                    "AND ctid < ('(' || %s || ',0)')::tid AND filled = amount",
                    (lo, lo + chunk_blocks),
                )
            )
        return pace


def trial(dsn: str, rows: int, load: str) -> str:
    kind, _, cap = load.partition(":")
    mb_per_s = float(cap) if cap else None
    writer = Writer(dsn)
    writer.start()
    time.sleep(1.0)
    pace = verify(dsn, mb_per_s) if kind == "verify" else backfill(dsn, rows, kind == "sync", mb_per_s)
    seconds = time.monotonic() - pace.started
    time.sleep(0.5)
    writer.stop.set()
    writer.join()
    lat = sorted(writer.latencies)
    return (
        f"{load:12s} WAL {pace.bytes / 1e6:6.0f} MB in {seconds:5.1f} s = {pace.bytes / 1e6 / seconds:4.0f} MB/s | "
        f"commit max {lat[-1] * 1000:5.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:5.1f} ms, "
        f"{sum(x > 0.05 for x in lat)} of {len(lat)} over 50 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("dsn")
    parser.add_argument("loads", nargs="+", help="async, sync, async:MB, sync:MB or verify, run in this order")
    parser.add_argument("--rows", type=int, default=4_000_000)
    args = parser.parse_args()
    setup(args.dsn, args.rows)
    for load in args.loads:
        print(trial(args.dsn, args.rows, load), flush=True)


if __name__ == "__main__":
    main()
