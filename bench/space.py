"""The table's size on disk, heap and indexes, before, at its peak during a change, and after.

Sizes are the machine-independent measure of the benchmark: every leaf of the table's partition tree (or the table
itself), its heap with TOAST, free space and visibility maps (`pg_table_size`) and its indexes (`pg_indexes_size`).
The peak is sampled every `interval` seconds from a thread of its own, so it can miss a short spike: it is a
lower bound of the true peak.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psycopg

# the table's leaves: a partitioned table's partitions, or the table itself
_SIZE = """
WITH leaves AS (
    SELECT relid FROM pg_partition_tree(to_regclass(%(t)s)) WHERE isleaf
    UNION SELECT to_regclass(%(t)s) WHERE NOT EXISTS (SELECT FROM pg_inherits WHERE inhparent = to_regclass(%(t)s))
)
SELECT coalesce(sum(pg_table_size(relid)), 0)::bigint, coalesce(sum(pg_indexes_size(relid)), 0)::bigint FROM leaves
"""


@dataclass(frozen=True)
class Size:
    heap: int  # bytes
    indexes: int

    @property
    def total(self) -> int:
        return self.heap + self.indexes


def table_size(conn: psycopg.Connection, table: str) -> Size:
    row = conn.execute(_SIZE, {"t": table}).fetchone()
    assert row is not None
    return Size(int(row[0]), int(row[1]))


class PeakSampler(threading.Thread):
    """Samples the database's size on disk until `halt()`, which returns (before, peak, after) of the table.

    The samples are of `pg_database_size`, which takes no lock (the table's own size functions wait behind an
    ALTER's ACCESS EXCLUSIVE lock, and would queue before liveshift's lock requests) and counts files not in the
    catalog yet, such as the new file a rewriting ALTER fills: the peak is the table before plus the most the
    database grew meanwhile.
    """

    def __init__(self, dsn: str, table: str, interval: float = 0.1) -> None:
        super().__init__(name="size-sampler", daemon=True)
        self.dsn, self.table, self.interval = dsn, table, interval
        self._halted = threading.Event()
        self._conn = psycopg.connect(dsn, autocommit=True, application_name="size-sampler")
        self.before = table_size(self._conn, table)
        self._base = self._database()
        self._grown = 0

    def _database(self) -> int:
        row = self._conn.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        return int(row[0])

    def run(self) -> None:
        while not self._halted.wait(self.interval):
            self._grown = max(self._grown, self._database() - self._base)

    def halt(self) -> tuple[Size, int, Size]:
        self._halted.set()
        self.join()
        after = table_size(self._conn, self.table)
        self._conn.close()
        return self.before, max(self.before.total + self._grown, after.total), after
