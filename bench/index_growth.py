"""How much a backfill grows the indexes a table already has, against its batch size and free-space reuse.

Every backfilled row is a non-HOT update (its page is full), so each index gets a second entry per row. PostgreSQL
14+'s bottom-up index deletion removes entries of dead versions of rows whose indexed columns did not change when a
leaf page would otherwise split, but only versions already dead to every snapshot. This measures, on a copy without
traffic, each index's size after a keyset walk of `UPDATE ... SET new = amount` batches (the backfill's direct
statement, one transaction per batch, vacuuming after every 5% of the rows when reuse is on) against its size after
a fresh build (what the plain ALTER leaves), and the walk's speed.

    python -m bench.index_growth --rows 200000 --batches 50,100,200,500,1000,5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from liveshift.cli.stack.postgres import EmbeddedPostgres

_SETUP = """
DROP TABLE IF EXISTS t;
CREATE TABLE t (id int PRIMARY KEY, amount int NOT NULL, email text NOT NULL, new_amount bigint, mark char(1));
INSERT INTO t SELECT g, g % 1000, md5(g::text) || '@example.com', NULL, NULL FROM generate_series(1, %(rows)s) g;
CREATE INDEX t_email ON t (email);
VACUUM (ANALYZE) t;
CHECKPOINT;
"""

_BATCH = "UPDATE t SET new_amount = amount, mark = 'b' WHERE id > %s AND id <= %s"

_SIZES = """
SELECT pg_table_size('t'), pg_relation_size('t_pkey'), pg_relation_size('t_email'),
       (SELECT leaf_pages FROM pgstatindex('t_pkey')), (SELECT leaf_pages FROM pgstatindex('t_email'))
"""


def sizes(conn: psycopg.Connection) -> tuple[int, ...]:
    row = conn.execute(_SIZES).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def walk(conn: psycopg.Connection, rows: int, batch: int, reuse: bool) -> float:
    """The keyset walk over dense keys 1..rows; the seconds it took (vacuums included)."""
    every = max(10_000, rows // 20) if reuse else 0
    since, t0 = 0, time.monotonic()
    for lo in range(0, rows, batch):
        conn.execute(_BATCH, (lo, lo + batch))
        since += batch
        if every and since >= every:
            since = 0
            conn.execute("VACUUM (SKIP_LOCKED, TRUNCATE false) t")
    return time.monotonic() - t0


def measure(dsn: str, rows: int, batch: int, reuse: bool) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        for statement in _SETUP.split(";\n"):
            if statement.strip():
                conn.execute(statement.replace("%(rows)s", str(rows)))
        before = sizes(conn)
        seconds = walk(conn, rows, batch, reuse)
        after = sizes(conn)
    mib = 1 << 20
    return (
        f"| {rows:,} | {batch:,} | {'on' if reuse else 'off'} | {after[0] / before[0]:.2f}x |"
        f" {before[1] / mib:.1f} → {after[1] / mib:.1f} MiB = {after[1] / before[1]:.2f}x |"
        f" {before[2] / mib:.1f} → {after[2] / mib:.1f} MiB = {after[2] / before[2]:.2f}x |"
        f" {rows / seconds:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batches", default="50,100,200,500,1000,5000")
    parser.add_argument("--reuse", default="on,off")
    parser.add_argument("--durable", action="store_true", help="fsync and synchronous commit on, as in bench.run")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-bench-idx-"))
    server = EmbeddedPostgres(data_dir, durable=args.durable).start()
    try:
        print("| rows | batch | reuse | heap after | primary key (int) | index on email (text) | rows/s |")
        print("|---|---|---|---|---|---|---|")
        for reuse in args.reuse.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                print(measure(server.dsn(), args.rows, batch, reuse == "on"), flush=True)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
