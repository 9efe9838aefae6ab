"""What a backfill will take on disk: the extra space at its peak and what remains after the migration.

An estimate for `liveshift plan`, from the table as it is (pg_class, the relation sizes) and a sample of its rows:

- the row's new width: a sample of rows is read with the `up` expressions evaluated over them (as the backfill
  will), `pg_column_size` of the row before and of the row with its new columns and the row marker, so alignment
  and the values' real widths count; where an expression cannot be evaluated here (it reads a column an earlier
  operation of the migration adds), the new type's fixed length or 32 bytes is assumed;
- the heap: every row gets a new version, at the new width. With free-space reuse (`Throttle.reclaim_every`,
  reclaim.py) the versions fill the space the earlier batches freed, so the heap ends at the new width plus about
  one interval's rows not reclaimed yet; without it the old versions stay, and the heap is old plus new;
- without reuse but with the key runs spread over a window (`Throttle.spread`, keyset.py), each page is
  visited again after the batch that left dead versions there committed, and PostgreSQL prunes it on the way:
  measured (tests/integration/test_backfill_space.py), about a quarter of the heap's versions stay, not all;
- the indexes the table has: every backfilled row adds an entry to each (no HOT update is possible on a full
  page). Spread runs and reuse keep each near its size (bottom-up deletion and the VACUUMs remove the old
  entries before a leaf splits); with consecutive keys (spread 1) the key's index doubles, and without reuse
  every index may: counted doubled;
- after the backfill, each doubled index is rebuilt (rebuild.py): its fresh copy is built beside it, one index at
  a time, so the peak adds the largest index once more, and the indexes end about at their size;
- the heap is not given back: PostgreSQL does not shrink a table's file (only a rewrite does), so what the
  backfill added to it remains after contract (the dropped old columns' bytes stay in the rows, too).
An index expand builds again over the new columns (a unique key's, the primary key's, so green's writes are
checked and its reads find their rows) holds every row as NULL at first and is filled by the backfill: counted at
twice the index it stands for, then rebuilt (its copy counted); one the plan adds from nothing is not counted.
One built once after the backfill, where the old column's index already checks what it would (a lossless cast
there and back, `column_swap.Swap.index_steps`), counts at the size of the index it stands for.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget
from liveshift.shape import row_expression
from liveshift.values import Throttle

log = logging.getLogger(__name__)

SAMPLE_ROWS = 1000
GUESS_VARLENA = 32  # bytes of a variable-length new value the sample could not compute
MARKER_BYTES = 2  # the row marker's 'b': a one-byte varlena header and the letter
LINE_POINTER = 4  # bytes a heap tuple costs in its page besides itself


@dataclass(frozen=True)
class SpaceEstimate:
    table: str
    rows: int
    heap: int  # bytes now, with TOAST, free space and visibility maps
    indexes: int
    row_before: float  # bytes of a row as stored now (sampled)
    row_after: float  # bytes with its new columns and the marker
    heap_extra: int  # bytes the heap grows by
    index_extra: int  # bytes the indexes grow by during the backfill
    rebuild_copy: int = 0  # bytes of the largest index's fresh copy while it is rebuilt beside the old one

    @property
    def peak_extra(self) -> int:
        """Extra bytes while the largest index is rebuilt after the backfill, the largest the table gets."""
        return self.heap_extra + self.index_extra + self.rebuild_copy

    @property
    def remains(self) -> int:
        """Extra bytes after contract: the heap's file does not shrink; the rebuilt indexes are back to their size."""
        return self.heap_extra


def _sizes(conn: psycopg.Connection, regclass: str) -> tuple[int, int, int, int]:
    """Rows, heap bytes, index bytes and the largest index's bytes."""
    row = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint, pg_table_size(oid), pg_indexes_size(oid), "
        "(SELECT coalesce(max(pg_relation_size(indexrelid)), 0) FROM pg_index WHERE indrelid = c.oid) "
        "FROM pg_class c WHERE oid = to_regclass(%s)",
        (regclass,),
    ).fetchone()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3])) if row else (0, 0, 0, 0)


def _sample_clause(rows: int) -> sql.Composable:
    """A block sample of about SAMPLE_ROWS rows (all of a small table), repeatable so the estimate is stable."""
    percent = 100.0 if rows <= SAMPLE_ROWS else min(100.0, 100.0 * 2 * SAMPLE_ROWS / rows)
    return sql.SQL(" TABLESAMPLE SYSTEM ({}) REPEATABLE (24)").format(sql.Literal(percent))


def _guessed_width(conn: psycopg.Connection, target: BackfillTarget) -> float:
    """The new columns' bytes by their types alone: a fixed length, else GUESS_VARLENA."""
    total = 0.0
    for t in target.ups:
        row = conn.execute("SELECT typlen FROM pg_type WHERE oid = to_regtype(%s)", (t.target_type,)).fetchone()
        total += row[0] if row and row[0] > 0 else GUESS_VARLENA
    return total + MARKER_BYTES


def _sampled_widths(conn: psycopg.Connection, schema: str, target: BackfillTarget, rows: int) -> tuple[float, float]:
    """(row now, row with its new columns and marker), averaged over the sample; both 0 for an empty table. The
    new values follow the row in the order expand adds them: the hidden columns, then the marker."""
    news = [
        sql.SQL("CAST({} AS {})").format(row_expression("_ls_r", t.variables, t.expression), sql.SQL(t.target_type))
        for t in target.ups
    ]
    query = sql.SQL(
        # a heap tuple is as long as the row's datum, rounded up to 8 bytes (MAXALIGN) in its page
        "SELECT coalesce(avg((pg_column_size(_ls_r.*) + 7) / 8 * 8), 0), "
        "coalesce(avg((pg_column_size(ROW(_ls_r.*, {news})) + 7) / 8 * 8), 0) "
        "FROM (SELECT * FROM {table}{sample} LIMIT {limit}) AS _ls_r"
    ).format(
        news=sql.SQL(", ").join([*news, sql.SQL("CAST('b' AS text)")]),
        table=qualified(schema, target.table),
        sample=_sample_clause(rows),
        limit=sql.Literal(SAMPLE_ROWS),
    )
    row = conn.execute(query, prepare=False).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def row_widths(conn: psycopg.Connection, schema: str, target: BackfillTarget, rows: int) -> tuple[float, float]:
    """The row's bytes now and after its backfill: sampled, or by the new types where the sample cannot be read."""
    try:
        with conn.transaction():  # a savepoint inside the caller's transaction
            before, after = _sampled_widths(conn, schema, target, rows)
    except psycopg.DatabaseError as exc:  # an `up` that fails on a sampled row, or reads what expand adds
        log.info("space estimate of %s: sample not computed (%s); by the new types", target.table, exc)
        before, _ = _sampled_widths(conn, schema, dataclasses.replace(target, ups=()), rows)
        after = before + _guessed_width(conn, target)
    return before, after


# without VACUUMs, the share of the heap's old versions spread runs leave unpruned (measured, see above)
PRUNED_REMAINDER = 0.25


def _heap_after(heap: int, rows: int, widths: tuple[float, float], throttle: Throttle) -> float:
    """The heap's bytes after the backfill: every row at its new width, plus the old versions not reclaimed."""
    before, after = widths
    if not before:
        return heap
    grown = heap * (after + LINE_POINTER) / (before + LINE_POINTER)
    if throttle.reclaim_every > 0:  # one interval's versions not reclaimed yet (as Reclaimer.for_walk sets it)
        return grown + heap * min(1.0, max(throttle.reclaim_every, throttle.reclaim_min_rows / rows))
    return grown + heap * (PRUNED_REMAINDER if throttle.spread > 1 else 1.0)


def estimate(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    throttle: Throttle,
    rebuilt: Sequence[int] = (),
    built_after: Sequence[int] = (),
) -> SpaceEstimate:
    """`throttle`'s reuse (`reclaim_every`, `reclaim_min_rows`) and `spread` decide how much is reclaimed; `rebuilt`
    are the sizes of the indexes expand builds again over the new columns, `built_after` of those built once after
    the backfill (`rebuild.built_sizes`)."""
    rows, heap, indexes, largest = _sizes(conn, qualified(schema, target.table).as_string(None))
    widths = row_widths(conn, schema, target, rows) if rows else (0.0, 0.0)
    heap_after = _heap_after(heap, rows, widths, throttle)
    before, after = widths
    doubled = bool(rows) and (throttle.spread == 1 or throttle.reclaim_every == 0)
    filled = list(rebuilt) if rows else []  # from all NULL to every value: about twice a fresh build, then rebuilt
    return SpaceEstimate(
        table=target.table,
        rows=rows,
        heap=heap,
        indexes=indexes,
        row_before=before,
        row_after=after,
        heap_extra=max(0, int(heap_after - heap)),
        index_extra=(indexes if doubled else 0) + 2 * sum(filled) + sum(built_after),
        rebuild_copy=max([largest if doubled else 0, *filled]),
    )
