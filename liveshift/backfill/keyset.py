"""Keyset batches: ranges of the table's primary key (or unique NOT NULL key), spread over the key's index.

A table without a key is walked by block ranges instead (blocks.py); both are batch sources (batches.py)
of the same loop, `walk.run_partition`.

Why a batch is not one run of consecutive keys. Every backfilled row gets a new version, and so a new
entry in every index, the key's included (the key did not change, but the version moved to another page).
PostgreSQL's bottom-up index deletion removes the old version's entry when a leaf would otherwise split,
but only once that version is dead to every snapshot, i.e. once the batch that replaced it committed. A
batch of consecutive keys puts hundreds of new entries on the same few leaves inside one transaction: they
split, and the key's index ends at twice its size (docs/benchmark.md, "Indexes after a backfill"). So a
batch takes short runs of keys (`run_keys` each, about 1/LEAF_RUNS of a leaf), `spread` runs apart, from a
window of consecutive keys read once, and the window is done after `spread` turns (`Throttle.spread`; 1 walks
consecutive keys, one window a batch). Each leaf sees at most one run per transaction.

The order of the turns. "Once the batch that replaced it committed" is not enough while another transaction
that began before that commit is still open: another partition's batch (`--parallelism`), or an
application's. Its snapshot still sees the old versions, so a turn that comes straight back to the same
leaves cannot delete them and splits the leaves (two partitions walked at once took the key's index to 1.6x;
test_backfill_rebuild.py holds it at 2x with an overlapping snapshot). So a spread of several leaves' worth
of runs (LEAF_RUNS each) is cut into those parts, and the turns interleave them: a spread of 72 takes the runs
at offset 0 of each 72, then offset 18, 36, 54, then 1, … A leaf is visited every fourth turn, after any
transaction open when its previous run committed has ended (batches last ~30 ms). A table walked by several
partitions walks with CONCURRENT_PARTS times the spread (`walk_spread`); one walk keeps the plain order (0, 1,
2, …), whose consecutive turns on the same heap pages are faster.

The checkpoint moves only past whole windows: a restart redoes the window it was in, whose rows done
already are skipped (no longer marked pending).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from liveshift.backfill.batches import ROW_ALIAS, BatchOutcome, BatchRequest, marking_update
from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget

# A leaf holds about 8 kB at fillfactor 90: a run of new entries up to ~480 bytes fits in the room it has left.
_RUN_BYTES = 480
# ... so a leaf holds about this many runs
LEAF_RUNS = 18
# a table walked by several partitions: each walk's spread is this many times the throttle's, interleaved
CONCURRENT_PARTS = 4


def walk_spread(spread: int, partitions: int) -> int:
    """The spread one walk uses: with other partitions walking the same table, several leaf-sized parts."""
    return spread * CONCURRENT_PARTS if partitions > 1 and spread >= LEAF_RUNS else spread


def _row(columns: tuple[str, ...], qualifier: str | None = None) -> sql.Composable:
    idents = [sql.Identifier(qualifier, c) if qualifier else sql.Identifier(c) for c in columns]
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
    schema: str, target: BackfillTarget, runs: list[tuple[list[Any], list[Any]]], direct: bool
) -> sql.Composable:
    """The same over several runs [first, last] of keys at once: a join with the runs' bounds (one array per
    bound and key column, unnested), each run found by a range scan of the key's index (a nested loop: an
    inequality cannot be hashed, so the planner cannot turn it into a scan of the whole table)."""
    if not runs:
        return marking_update(schema, target, sql.SQL(" WHERE false"), direct)
    width = len(target.key)
    names = [f"_ls_lo_{i}" for i in range(width)] + [f"_ls_hi_{i}" for i in range(width)]
    arrays = [
        sql.SQL("CAST({} AS {}[])").format(
            sql.Literal([str(bounds[side][i]) for bounds in runs]), sql.SQL(target.key_types[i])
        )
        for side in (0, 1)
        for i in range(width)
    ]
    key = _row(tuple(target.key), qualifier=ROW_ALIAS)
    lows, highs = (
        sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier("_ls_b", n) for n in part)) if width > 1
        else sql.Identifier("_ls_b", part[0])
        for part in (names[:width], names[width:])
    )  # fmt: skip
    clause = sql.SQL(" FROM unnest({arrays}) AS _ls_b({names}) WHERE {key} >= {lows} AND {key} <= {highs}").format(
        arrays=sql.SQL(", ").join(arrays),
        names=sql.SQL(", ").join(sql.Identifier(n) for n in names),
        key=key,
        lows=lows,
        highs=highs,
    )
    return marking_update(schema, target, clause, direct)


_INDEX_RANGES_ONLY = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
)


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
    runs: tuple[tuple[list[Any], list[Any]], ...]  # each run's first and last key
    counts: tuple[int, ...]  # keys in each run
    last: bool  # no key after this window in the partition
    spread: int  # the turns a window takes
    size: int  # the batch size it was read for: about the keys each turn takes
    turn: int = 0

    def taken(self) -> tuple[list[tuple[list[Any], list[Any]]], int]:
        """This turn's runs, and the keys they hold.

        A run's bounds are keys read: a pending row's key was among them, as pending rows existed before expand
        and a row whose key an application changes is no longer pending (the trigger marks it)."""
        offsets = self.offsets()
        picked = range(offsets[self.turn], len(self.runs), self.spread) if offsets else range(0)  # no run: none
        return [self.runs[i] for i in picked], sum(self.counts[i] for i in picked)

    def offsets(self) -> list[int]:
        """The first run of each turn, in the order taken: the spread's parts of a leaf's runs each interleaved
        (0, p, 2p, …, 1, p + 1, …), so consecutive turns put their runs on different leaves."""
        ways = max(1, self.spread // LEAF_RUNS)
        part = -(-self.spread // ways)
        order = [w * part + i for i in range(part) for w in range(ways)]
        return [o for o in order if o < min(self.spread, len(self.runs))]

    def next_turn(self) -> Window | None:
        """The window at its next turn, None when every run was taken."""
        turn = self.turn + 1
        return replace(self, turn=turn) if turn < len(self.offsets()) else None

    @property
    def end(self) -> list[Any] | None:
        return self.runs[-1][1] if self.runs else None


def read_window(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    bounds: tuple[list[Any] | None, list[Any] | None],
    size: int,
    shape: tuple[int, int],
) -> Window:
    """The next window of `size` · spread keys after `bounds[0]` (within `bounds[1]`), in runs of `run` keys
    (`shape` is (run, spread)): one walk of the key's index, no row locks, returning every run's first and last
    key. One key more is read, and left out, to know whether any follows: a window that ends the partition says
    so, and no empty window (a batch with nothing to do) follows a full last one."""
    start, upper = bounds
    run, spread = shape
    limit = size * spread
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in target.key)
    query = sql.SQL(
        "SELECT jsonb_build_array({cols}), _ls_n FROM (SELECT {cols}, row_number() OVER _ls_w AS _ls_n, "
        "lead(true) OVER _ls_w IS NULL AS _ls_final FROM (SELECT {cols} FROM {table} WHERE {where} ORDER BY {cols} "
        "LIMIT {limit} + 1) AS _ls_keys WINDOW _ls_w AS (ORDER BY {cols})) AS _ls_numbered "
        "WHERE (_ls_n - 1) % {run} = 0 OR _ls_n % {run} = 0 OR _ls_n = {limit} OR _ls_final"
    ).format(
        cols=cols,
        table=qualified(schema, target.table),
        where=_range_condition(target, start, upper),
        limit=sql.Literal(limit),
        run=sql.Literal(run),
    )
    # only each run's first and last key are built and sent, not every key of the window
    rows = conn.execute(query, prepare=False).fetchall()
    keys = {int(n): key for key, n in rows}
    read = max(keys, default=0)  # the final key's number (lead() found nothing after it)
    total = min(read, limit)  # the window's keys: the one read beyond it only tells that more follow
    firsts = range(1, total + 1, run)
    return Window(
        start=start,
        runs=tuple((keys[n], keys[min(n + run - 1, total)]) for n in firsts),
        counts=tuple(min(n + run - 1, total) - n + 1 for n in firsts),
        last=read <= limit,
        spread=spread,
        size=size,
    )


class KeysetBatches:
    """Batches of key runs spread over the key's index (see the module's docstring)."""

    def __init__(self, conn: psycopg.Connection, schema: str, target: BackfillTarget, spread: int) -> None:
        self.schema, self.target, self.spread = schema, target, spread
        self.run_keys = run_keys(conn, schema, target) if spread > 1 else 0

    def _shape(self, size: int) -> tuple[int, int]:
        """A window's (run, spread) for batches of `size`: consecutive keys are one run a batch."""
        return (size, 1) if self.spread == 1 else (self.run_keys, self.spread)

    def run(self, conn: psycopg.Connection, request: BatchRequest) -> BatchOutcome:
        window = request.cursor
        if not isinstance(window, Window) or window.start != request.last:
            bounds = (request.last, request.upper)
            window = read_window(conn, self.schema, self.target, bounds, request.size, self._shape(request.size))
        runs, seen = window.taken()
        if runs:
            # the runs' bounds are parameters of the inner scan, so the planner prices each range at a default
            # share of the table and may prefer scanning all of it for every batch: only the nested loop over
            # index range scans is allowed (for this transaction's statements only)
            conn.execute(_INDEX_RANGES_ONLY)
            conn.execute(runs_update_statement(self.schema, self.target, runs, request.direct), prepare=False)
        following = window.next_turn()
        if following is not None:
            return BatchOutcome(seen=seen, last=None, finished=False, settled=0, cursor=following, size=window.size)
        return BatchOutcome(
            seen=seen, last=window.end, finished=window.last, settled=sum(window.counts), size=window.size
        )
