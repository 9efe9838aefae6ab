"""Free-space reuse between batches: the backfill vacuums what it has done, so later batches fill the freed space.

Every backfilled row gets a new version. With no free space in the table's pages, each new version goes to
the end of the file, and the table ends twice its size (the old versions' space is never handed back: a
plain VACUUM only makes it reusable). So after every `Throttle.reclaim_every` of the table's rows the walk
runs a plain VACUUM of the table it walks (a leaf partition for a partitioned table): the dead versions
of the batches done are removed and their pages recorded in the free space map, where the next batches'
new versions find them. The table grows by about one interval's rows instead of by all of them.

Why this keeps the backfill's guarantees:
- locks: VACUUM takes SHARE UPDATE EXCLUSIVE, which no application statement (ACCESS SHARE, ROW SHARE,
  ROW EXCLUSIVE) conflicts with; SKIP_LOCKED skips the table rather than waiting when another holder of
  a conflicting lock (autovacuum, an index build, DDL, another partition's walk) is there, so the walk
  never queues; TRUNCATE false, because truncating the file's tail takes ACCESS EXCLUSIVE;
- the walk holds no row lock while it vacuums (it runs between batches, in autocommit);
- data: VACUUM removes only versions dead to every snapshot, and moves no live row (a block-range walk's
  pending rows stay where the partitions were planned; its relfilenode check still holds);
- a role that may not vacuum the table gets a warning from PostgreSQL and the walk goes on (space is then
  reclaimed only by autovacuum, as before).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

from liveshift.ddl.steps import qualified

log = logging.getLogger(__name__)

# not in a transaction block (VACUUM cannot be); from PostgreSQL 16 on, without the scan of pg_class that updates
# the database's datfrozenxid after each one
_VACUUM = sql.SQL("VACUUM (SKIP_LOCKED, TRUNCATE false) {}")
_VACUUM_16 = sql.SQL("VACUUM (SKIP_LOCKED, TRUNCATE false, SKIP_DATABASE_STATS) {}")


def vacuum_statement(conn: psycopg.Connection, schema: str, table: str) -> sql.Composable:
    statement = _VACUUM_16 if conn.info.server_version >= 160000 else _VACUUM
    return statement.format(qualified(schema, table))


def table_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    """The planner's row count of the table (after expand's ANALYZE or autovacuum's), 0 when unknown."""
    row = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Reclaimer:
    """Counts the rows a walk backfills and vacuums its table after every `interval` of them (0: never)."""

    schema: str
    table: str
    every: float  # the interval: this fraction of the table's rows ...
    min_rows: int  # ... but at least this many (a small table is not worth a vacuum)
    interval: int = 0
    since: int = 0
    vacuums: int = 0
    seconds: float = 0.0

    @classmethod
    def for_table(cls, conn: psycopg.Connection, schema: str, table: str, every: float, min_rows: int) -> Reclaimer:
        reclaimer = cls(schema=schema, table=table, every=every, min_rows=min_rows)
        reclaimer.measure(conn)
        return reclaimer

    def measure(self, conn: psycopg.Connection) -> None:
        """The interval from the table's row count; a table never analysed counts 0 rows, and its first VACUUM
        (after `min_rows`) sets the count that the next intervals follow."""
        rows = table_rows(conn, self.schema, self.table)
        self.interval = 0 if self.every <= 0 else max(self.min_rows, int(rows * self.every))

    def after_batch(self, conn: psycopg.Connection, rows: int) -> None:
        """After a committed batch of `rows`: vacuum once an interval's rows are done since the last time."""
        if not self.interval:
            return
        self.since += rows
        if self.since < self.interval:
            return
        self.since = 0
        self.vacuum(conn)

    def vacuum(self, conn: psycopg.Connection) -> None:
        assert conn.autocommit, "VACUUM cannot run inside a transaction block"
        t0 = time.monotonic()
        try:
            conn.execute(vacuum_statement(conn, self.schema, self.table))
        except (errors.LockNotAvailable, errors.QueryCanceled) as exc:
            # SKIP_LOCKED covers the table; an index under an ACCESS EXCLUSIVE lock (a DROP INDEX, say) still makes
            # it wait, up to the walk's lock_timeout, or a statement_timeout ends it: the next interval tries again
            log.warning("backfill %s: vacuum skipped (%s)", self.table, exc)
            return
        self.vacuums += 1
        self.seconds += time.monotonic() - t0
        self.measure(conn)
        log.debug("backfill %s: vacuum %d took %.3f s", self.table, self.vacuums, time.monotonic() - t0)
