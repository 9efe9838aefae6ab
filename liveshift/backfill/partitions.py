"""How a table's backfill is split: partitions over its key range (or its blocks), recorded once as checkpoints."""

from __future__ import annotations

import psycopg
from psycopg import sql

from liveshift.backfill.batches import BatchSource
from liveshift.backfill.blocks import BlockBatches, block_partitions
from liveshift.backfill.keyset import KeysetBatches
from liveshift.catalog.partitions import is_relation, live_leaves
from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget
from liveshift.store.checkpoints import Partition
from liveshift.versions.triggers import MARKER


def batch_source(conn: psycopg.Connection, schema: str, target: BackfillTarget, spread: int) -> BatchSource:
    """Key runs `spread` runs apart where the table has a key, else physical block ranges (blocks.py)."""
    return KeysetBatches(conn, schema, target, spread) if target.key else BlockBatches(conn, schema, target)


def left_the_table(conn: psycopg.Connection, schema: str, target: BackfillTarget) -> bool:
    """Whether `target` is a leaf partition no longer below its partitioned table (detached, or dropped) since
    prepare: its rows are no longer the table's, so its backfill has nothing to do."""
    return target.parent is not None and (schema, target.table) not in live_leaves(conn, schema, target.parent)


def plan_partitions(conn: psycopg.Connection, schema: str, target: BackfillTarget, parallelism: int) -> list[Partition]:
    """Split the key range for parallel workers: even ranges of a single integer key, else one partition;
    a table without a key: even ranges of the blocks it has now (see ctid_backfill.py). A leaf partition that
    left its table: one partition, which its walk finishes at once."""
    if left_the_table(conn, schema, target):
        return [Partition(index=0)]
    if not target.key:
        ranges = block_partitions(conn, schema, target.table, parallelism)
        return [Partition(index=i, lower=lower, upper=upper) for i, (lower, upper) in enumerate(ranges)]
    integer_key = len(target.key) == 1 and target.key_types[0] in ("integer", "bigint", "smallint")
    if parallelism <= 1 or not integer_key:
        return [Partition(index=0)]
    lo, hi = conn.execute(
        sql.SQL("SELECT min({k}), max({k}) FROM {t}").format(
            k=sql.Identifier(target.key[0]), t=qualified(schema, target.table)
        )
    ).fetchone() or (None, None)
    if lo is None:
        return [Partition(index=0)]
    step = max(1, (hi - lo + 1) // parallelism)
    bounds = [lo - 1 + step * i for i in range(1, parallelism)]
    edges: list[int | None] = [None, *bounds, None]
    return [
        Partition(
            index=i,
            lower=None if edges[i] is None else [edges[i]],
            upper=None if edges[i + 1] is None else [edges[i + 1]],
        )
        for i in range(len(edges) - 1)
    ]


def estimate_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    if not is_relation(conn, schema, table):  # a partition dropped since prepare
        return 0
    row = conn.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    estimate = int(row[0]) if row and row[0] is not None else -1
    if estimate < 1_000_000:  # small or never analysed: an exact count is cheap enough
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(schema, table))).fetchone()
        return int(count[0]) if count else 0
    return estimate


def pending_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE {} = 'p'").format(qualified(schema, table), sql.Identifier(MARKER))
    ).fetchone()
    return int(row[0]) if row else 0
