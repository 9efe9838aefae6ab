"""What each part of the backfill's statement costs against one plain UPDATE, with nothing else running.

Each trial fills a fresh copy of a table shaped like the benchmark's (`id int` key, `email text`, `amount int`,
then the new `bigint` column), with `--rows` rows, frozen and checkpointed, and times one way of filling the new
column from `amount`:

- `plain`: `UPDATE t SET new = amount::bigint`, the reference;
- `marker`: the same, also setting the row marker the backfill sets (`_ls_written_by`), only where it is pending;
- `ranges`: the marker statement as batches of `--batch` consecutive keys, each by a range scan of the key's
  index and committed on its own;
- `trigger`: the marker statement with a BEFORE UPDATE row trigger on the table that the session does not fire
  (session_replication_role = replica, as the backfill's direct path runs): PostgreSQL locks each row before it
  looks at the trigger;
- `trigger-when`: the same trigger skipped by its WHEN clause instead (a role that may not set the replication
  role).

    python -m bench.statement_costs --rows 1000000      # its own embedded PostgreSQL in a temporary directory
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from liveshift.cli.stack.postgres import EmbeddedPostgres

MARKED = "UPDATE t SET new = amount::bigint, marker = 'b' WHERE marker = 'p'"
TRIGGER = (
    "CREATE OR REPLACE FUNCTION fill() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.new := NEW.amount; "
    "RETURN NEW; END$$",
    "CREATE TRIGGER fill BEFORE UPDATE ON t FOR EACH ROW "
    "WHEN (current_setting('bench.path', true) IS DISTINCT FROM 'backfill') EXECUTE FUNCTION fill()",
)


def fresh_table(conn: psycopg.Connection, rows: int) -> None:
    conn.execute("DROP TABLE IF EXISTS t")
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, email text, amount int)")
    conn.execute("INSERT INTO t SELECT g, 'Seed' || g || '@example.com', g FROM generate_series(1, %s) g", (rows,))
    conn.execute("ALTER TABLE t ADD COLUMN new bigint, ADD COLUMN marker \"char\" NOT NULL DEFAULT 'p'")
    conn.execute("VACUUM (FREEZE, ANALYZE) t")
    conn.execute("CHECKPOINT")


def statements(trial: str, rows: int, batch: int) -> tuple[list[str], list[str], list[str]]:
    """(set-up, each transaction's settings, the transactions) of `trial`."""
    if trial == "plain":
        return [], [], ["UPDATE t SET new = amount::bigint"]
    if trial == "marker":
        return [], [], [MARKED]
    if trial == "ranges":
        ranged = [f"{MARKED} AND id > {lo} AND id <= {lo + batch}" for lo in range(0, rows, batch)]
        return [], ["SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"], ranged
    if trial == "trigger":
        return list(TRIGGER), ["SET LOCAL session_replication_role = replica"], [MARKED]
    if trial == "trigger-when":
        return list(TRIGGER), ["SET LOCAL bench.path = 'backfill'"], [MARKED]
    raise SystemExit(f"unknown trial {trial!r}")


def run(conn: psycopg.Connection, trial: str, rows: int, batch: int) -> tuple[float, float]:
    """`trial` on a fresh table: rows/s, and WAL bytes a row (a row lock taken before the update is one more
    record a row)."""
    fresh_table(conn, rows)
    setup, settings, transactions = statements(trial, rows, batch)
    for statement in setup:
        conn.execute(statement)
    lsn = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
    t0 = time.perf_counter()
    for statement in transactions:
        with conn.transaction():
            for setting in settings:
                conn.execute(setting)
            conn.execute(statement)
    rate = rows / (time.perf_counter() - t0)
    wal = conn.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn", (lsn,)).fetchone()[0]  # type: ignore[index]
    return rate, float(wal) / rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=7_000, help="keys a batch of the `ranges` trial takes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("trials", nargs="*", default=["plain", "marker", "ranges", "trigger", "trigger-when"])
    args = parser.parse_args()
    postgres = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="liveshift-costs-pg-")), settings={"max_wal_size": "4GB"})
    postgres.start()
    try:
        with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
            print("| trial | rows/s | of the first trial | WAL a row |\n|---|---|---|---|")
            for _ in range(args.rounds):
                first = None
                for trial in args.trials:
                    rate, wal = run(conn, trial, args.rows, args.batch)
                    first = first or rate
                    print(f"| {trial} | {rate:,.0f} | {rate / first:.0%} | {wal:.0f} bytes |", flush=True)
    finally:
        postgres.destroy()


if __name__ == "__main__":
    main()
