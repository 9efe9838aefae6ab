"""Backfill of a table with neither a primary key nor a unique NOT NULL key: by physical block ranges.

A batch is `ctid >= '(b,0)' AND ctid < '(b+k,0)' AND _ls_written_by = 'p'`, which PostgreSQL 14 and
later run as a TID Range Scan: it reads blocks b to b+k-1 and nothing else, whatever the table holds.
The checkpoint is the next block to do. Why no pending row is missed:

- pending rows existed before expand; once expand has created the dual-write trigger, every row
  inserted or updated is marked `b` or `g`, so no new pending row is ever written. The partitions
  cover the blocks the table had when the backfill was planned (after expand), so every pending row
  is in one of them;
- a pending row never moves: an UPDATE (the backfill's or an application's) that moves a row also
  marks it, and a pending row an application updates while the batch waits for its lock is
  skipped on the recheck (its new version is not pending);
- what could move pending rows is a rewrite of the table (VACUUM FULL, CLUSTER, pg_repack, a
  rewriting ALTER TABLE): every batch checks, holding its row lock on the table, that the table's
  file is the one the partitions were planned over, and refuses to go on otherwise.

Partitions are encoded in the checkpoint's jsonb keys as lower `[first block]`, upper
`[end block (exclusive), relfilenode]`, last `[next block]`.
"""

from __future__ import annotations

import math

import psycopg
from psycopg import sql

from liveshift.backfill.batches import BatchOutcome, BatchRequest, marking_update
from liveshift.ddl.steps import qualified
from liveshift.errors import MigrationStateError
from liveshift.plan import BackfillTarget


def _regclass(schema: str, table: str) -> str:
    return qualified(schema, table).as_string(None)


def relation_blocks(conn: psycopg.Connection, schema: str, table: str) -> tuple[int, int]:
    """(blocks in the table's file now, the file's relfilenode)."""
    row = conn.execute(
        "SELECT pg_relation_size(r) / current_setting('block_size')::bigint, pg_relation_filenode(r)::bigint "
        "FROM to_regclass(%s) AS r",
        (_regclass(schema, table),),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def block_partitions(
    conn: psycopg.Connection, schema: str, table: str, parallelism: int
) -> list[tuple[list[int], list[int]]]:
    """(lower, upper) of up to `parallelism` even block ranges over the table as it is now (after expand)."""
    blocks, filenode = relation_blocks(conn, schema, table)
    return split_blocks(blocks, filenode, parallelism)


def split_blocks(blocks: int, filenode: int, parallelism: int) -> list[tuple[list[int], list[int]]]:
    """Blocks [0, blocks) in up to `parallelism` contiguous ranges, each at least one block (one empty range
    for an empty table), as (lower, upper) checkpoint keys."""
    count = max(1, min(parallelism, blocks))
    edges = [blocks * i // count for i in range(count + 1)]
    return [([edges[i]], [edges[i + 1], filenode]) for i in range(count)]


def rows_per_block(conn: psycopg.Connection, schema: str, table: str) -> float:
    """The table's density, to turn a batch size in rows into blocks: the planner's statistics, else a count."""
    row = conn.execute(
        "SELECT reltuples, relpages FROM pg_class WHERE oid = to_regclass(%s)", (_regclass(schema, table),)
    ).fetchone()
    if row is not None and row[0] > 0 and row[1] > 0:
        return max(1.0, float(row[0]) / float(row[1]))
    blocks, _ = relation_blocks(conn, schema, table)
    counted = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(schema, table))).fetchone()
    return max(1.0, (int(counted[0]) if counted else 0) / max(1, blocks))


def block_range(start: int, end: int) -> sql.Composable:
    """`WHERE` blocks [start, end) of the table aliased `_ls_r`: a TID Range Scan. Literals, not client-side
    parameters: the batch UPDATE carries the user's `up` expressions (shape.py)."""
    return sql.SQL(" WHERE _ls_r.ctid >= CAST({} AS tid) AND _ls_r.ctid < CAST({} AS tid)").format(
        sql.Literal(f"({start},0)"), sql.Literal(f"({end},0)")
    )


class BlockBatches:
    """Batches of whole blocks; the throttle's batch size in rows becomes blocks at the table's density."""

    def __init__(self, conn: psycopg.Connection, schema: str, target: BackfillTarget) -> None:
        self.schema, self.target = schema, target
        self.density = rows_per_block(conn, schema, target.table)

    def run(self, conn: psycopg.Connection, request: BatchRequest) -> BatchOutcome:
        last, upper = request.last, request.upper
        assert last is not None and upper is not None, "a block-range partition has both bounds"
        start, (end, filenode) = int(last[0]), (int(upper[0]), int(upper[1]))
        stop = min(end, start + max(1, math.ceil(request.size / self.density)))
        updated = 0
        if start < end:
            # never a generic plan: the bounds' actual values make the TID Range Scan's cost
            statement = marking_update(self.schema, self.target, block_range(start, stop), request.direct)
            updated = conn.execute(statement, prepare=False).rowcount
        self._same_file(conn, filenode)
        return BatchOutcome(seen=max(0, updated), last=[stop], finished=stop >= end)

    def _same_file(self, conn: psycopg.Connection, filenode: int) -> None:
        """After the batch's UPDATE took its lock on the table, no rewrite can start before the commit; one that
        ran since the partitions were planned may have moved pending rows behind a checkpoint."""
        _, now = relation_blocks(conn, self.schema, self.target.table)
        if now != filenode:
            raise MigrationStateError(
                f"table {self.target.table!r} was rewritten (VACUUM FULL, CLUSTER, pg_repack or a rewriting ALTER "
                "TABLE) during its block-range backfill, so rows still pending may have moved behind the "
                "checkpoints; roll the migration back and start it again"
            )
