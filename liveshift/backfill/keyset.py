"""Keyset batches: ranges of the table's primary key (or unique NOT NULL key), spread over the key's index.

A table without a key is walked by block ranges instead (blocks.py); both are batch sources (batches.py)
of the same loop, `walk.run_partition`.

Why a batch is not one run of consecutive keys. Every backfilled row gets a new version, and so a new
entry in every index, the key's included (the key did not change, but the version moved to another page).
PostgreSQL's bottom-up index deletion removes the old version's entry when a leaf would otherwise split,
but only once that version is dead to every snapshot, i.e. once the batch that replaced it committed. A
batch of consecutive keys puts hundreds of new entries on the same few leaves inside one transaction: they
split, and the key's index ends at twice its size (docs/benchmark.md, "Indexes after a backfill"). So a
batch takes short runs of keys (`run_keys` each, a few percent of a leaf), `spread` runs apart, from a window
of consecutive keys read once: turn 0 takes runs 0, spread, 2·spread…, turn 1 runs 1, spread+1, …, and the
window is done after `spread` turns (`Throttle.spread`, 18 by default: with runs of ~6% of a leaf's
entries, more than a leaf apart; 1 walks consecutive keys, one window a batch). Each leaf sees one run per
transaction, and the next run on it comes after that transaction committed, when its old versions can be
deleted instead of splitting the leaf.

The checkpoint moves only past whole windows: a restart redoes the window it was in, whose rows done
already are skipped (no longer marked pending).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import psycopg
from psycopg import sql

from liveshift.backfill.batches import BatchOutcome, marking_update
from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget

# At most this many runs in one batch's UPDATE (each an index range scan of its BitmapOr).
MAX_RUNS = 200
# A leaf holds about 8 kB at fillfactor 90: a run of new entries up to ~480 bytes fits in the room it has left.
_RUN_BYTES = 480
_PAGE_BYTES = 8192


def _row(columns: tuple[str, ...]) -> sql.Composable:
    idents = [sql.Identifier(c) for c in columns]
    return sql.SQL("({})").format(sql.SQL(", ").join(idents)) if len(idents) > 1 else idents[0]


def _values(values: list[Any], types: tuple[str, ...]) -> sql.Composable:
    # literals, not client-side parameters: the batch UPDATE carries the user's `up` expressions (shape.py)
    parts = [
        sql.SQL("CAST({} AS {})").format(sql.Literal(None if v is None else str(v)), sql.SQL(t))
        for v, t in zip(values, types, strict=True)
    ]
    return sql.SQL("({})").format(sql.SQL(", ").join(parts)) if len(parts) > 1 else parts[0]


def _range_condition(target: BackfillTarget, lower: list[Any] | None, upper: list[Any] | None) -> sql.Composable:
    """`key > lower AND key <= upper` (either bound may be absent; `true` when both are)."""
    key = _row(target.key)
    conditions: list[sql.Composable] = []
    if lower is not None:
        conditions.append(sql.SQL("{} > {}").format(key, _values(lower, target.key_types)))
    if upper is not None:
        conditions.append(sql.SQL("{} <= {}").format(key, _values(upper, target.key_types)))
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")


def batch_update_statement(
    schema: str, target: BackfillTarget, lower: list[Any] | None, last: list[Any] | None, direct: bool
) -> sql.Composable:
    """Backfill the pending rows of (lower, last] in one statement: with `direct`, assign every `up` target from
    its expression over the row and mark the row; else only mark it (the dual-write trigger fills the rest)."""
    where = sql.SQL(" WHERE false") if last is None else sql.SQL(" WHERE ") + _range_condition(target, lower, last)
    return marking_update(schema, target, where, direct)


def runs_update_statement(
    schema: str, target: BackfillTarget, runs: list[tuple[list[Any] | None, list[Any]]], direct: bool
) -> sql.Composable:
    """The same over several key ranges (lower, last] at once, each found through the key's index (a range with
    known bounds, not a join with the batch's keys, which the planner may turn into a hash join over the whole
    table for every batch)."""
    ranges = [sql.SQL("({})").format(_range_condition(target, lower, last)) for lower, last in runs]
    where = sql.SQL(" WHERE ({})").format(sql.SQL(" OR ").join(ranges)) if ranges else sql.SQL(" WHERE false")
    return marking_update(schema, target, where, direct)


def run_keys(conn: psycopg.Connection, schema: str, target: BackfillTarget) -> int:
    """Keys per run: what fits in a leaf's free room, from the key columns' average width (pg_stats; 8 bytes
    a column where the table was never analysed)."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(avg_width), 0) FROM pg_stats"
        " WHERE schemaname = %s AND tablename = %s AND attname = ANY(%s)",
        (schema, target.table, list(target.key)),
    ).fetchone()
    known, width = (int(row[0]), int(row[1])) if row else (0, 0)
    data = width + 8 * (len(target.key) - known)
    entry = -(-(8 + data) // 8) * 8 + 4  # index tuple header, MAXALIGNed, and its line pointer
    return max(1, _RUN_BYTES // entry)


@dataclass(frozen=True)
class Window:
    """Consecutive keys after the checkpoint `start`, cut into runs; `turn` is the next turn to take."""

    start: list[Any] | None
    ends: tuple[list[Any], ...]  # each run's last key; run i is (ends[i-1] (or start), ends[i]]
    counts: tuple[int, ...]  # keys in each run
    last: bool  # no key after this window in the partition
    spread: int  # the turns a window takes
    turn: int = 0

    def runs(self) -> tuple[list[tuple[list[Any] | None, list[Any]]], int]:
        """This turn's runs as (lower, last] ranges, and the keys they hold."""
        picked = range(self.turn, len(self.ends), self.spread)
        bounds = [(self.start if i == 0 else self.ends[i - 1], self.ends[i]) for i in picked]
        return bounds, sum(self.counts[i] for i in picked)

    def next_turn(self) -> Window | None:
        """The window at its next turn, None when every run was taken."""
        turn = self.turn + 1
        return replace(self, turn=turn) if turn < min(self.spread, len(self.ends)) else None


def read_window(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    bounds: tuple[list[Any] | None, list[Any] | None],
    size: int,
    shape: tuple[int, int],
) -> Window:
    """The next window of `size` · spread keys after `bounds[0]` (within `bounds[1]`), in runs of `run` keys
    (`shape` is (run, spread)): one walk of the key's index, no row locks, returning every run's last key."""
    start, upper = bounds
    run, spread = shape
    limit = size * spread
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in target.key)
    query = sql.SQL(
        "SELECT jsonb_build_array({cols}), _ls_n, _ls_total FROM ("
        "SELECT {cols}, row_number() OVER (ORDER BY {cols}) AS _ls_n, count(*) OVER () AS _ls_total FROM ("
        "SELECT {cols} FROM {table} WHERE {where} ORDER BY {cols} LIMIT {limit}) AS _ls_keys) AS _ls_numbered "
        "WHERE _ls_n % {run} = 0 OR _ls_n = _ls_total ORDER BY _ls_n"
    ).format(
        cols=cols,
        table=qualified(schema, target.table),
        where=_range_condition(target, start, upper),
        limit=sql.Literal(limit),
        run=sql.Literal(run),
    )
    rows = conn.execute(query, prepare=False).fetchall()
    ends = tuple(r[0] for r in rows)
    numbers = [0, *(int(r[1]) for r in rows)]
    counts = tuple(b - a for a, b in pairwise(numbers))
    total = int(rows[0][2]) if rows else 0
    return Window(start=start, ends=ends, counts=counts, last=total < limit, spread=spread)


class KeysetBatches:
    """Batches of key runs spread over the key's index (see the module's docstring)."""

    def __init__(self, conn: psycopg.Connection, schema: str, target: BackfillTarget, spread: int) -> None:
        self.schema, self.target, self.spread = schema, target, spread
        self.run_keys = run_keys(conn, schema, target) if spread > 1 else 0

    def _shape(self, size: int) -> tuple[int, tuple[int, int]]:
        """The batch size a window is read for, and its (run, spread): consecutive keys are one run a batch."""
        if self.spread == 1:
            return size, (size, 1)
        return min(size, MAX_RUNS * self.run_keys), (self.run_keys, self.spread)

    def run(
        self,
        conn: psycopg.Connection,
        last: list[Any] | None,
        upper: list[Any] | None,
        size: int,
        direct: bool,
        cursor: Any = None,
    ) -> BatchOutcome:
        window = cursor
        if not isinstance(window, Window) or window.start != last:
            window = read_window(conn, self.schema, self.target, (last, upper), *self._shape(size))
        runs, seen = window.runs()
        if runs:
            # never a generic plan: the bounds' actual values let the planner pick the index range scans
            conn.execute(runs_update_statement(self.schema, self.target, runs, direct), prepare=False)
        following = window.next_turn()
        if following is not None:
            return BatchOutcome(seen=seen, last=None, finished=False, settled=0, cursor=following)
        return BatchOutcome(
            seen=seen, last=window.ends[-1] if window.ends else None, finished=window.last, settled=sum(window.counts)
        )
