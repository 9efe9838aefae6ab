"""Checkpointed keyset backfill: each batch and its checkpoint commit in one transaction.

A table without a key is walked by physical block ranges instead (ctid_backfill.py); both are batch
sources (batches.py) of the same loop, `run_partition`.

The batch updates rows still marked pending, one of two ways (chosen by the plan, see
`plan.direct_backfill`):
- direct: the UPDATE computes every new column itself, from the table's `up` expressions over the
  row as stored, and marks the row; the session's `liveshift.version` makes the dual-write
  trigger's WHEN clause skip it, so there is no PL/pgSQL call per row;
- touch: the UPDATE only marks the row and the trigger computes the new columns, for tables where an
  `up` reads what an earlier one assigns (one UPDATE's SET sees only the row before it).
Either way the values are the `up` expressions' (verify checks every backfilled row against them).
A crash loses at most the uncommitted batch; a restart resumes after the last committed key. Rows
a green client wrote meanwhile are skipped: green is their source of truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from liveshift.batches import BatchOutcome, BatchSource, marking_update
from liveshift.ctid_backfill import BlockBatches, block_partitions
from liveshift.plan import BackfillTarget
from liveshift.steps import qualified
from liveshift.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH, MARKER
from liveshift.values import Progress, Throttle

log = logging.getLogger(__name__)


class Partition(BaseModel):
    index: int
    lower: list[Any] | None = None  # exclusive
    upper: list[Any] | None = None  # inclusive


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


def _key_range(target: BackfillTarget, lower: list[Any] | None, upper: list[Any] | None) -> sql.Composable:
    """`WHERE key > lower AND key <= upper` (either bound may be absent)."""
    key = _row(target.key)
    conditions: list[sql.Composable] = []
    if lower is not None:
        conditions.append(sql.SQL("{} > {}").format(key, _values(lower, target.key_types)))
    if upper is not None:
        conditions.append(sql.SQL("{} <= {}").format(key, _values(upper, target.key_types)))
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")


def _batch_end(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    lower: list[Any] | None,
    upper: list[Any] | None,
    limit: int,
) -> tuple[int, list[Any] | None]:
    """How many keys the next batch holds, and its last key: a walk of the key index, no row locks.

    Usually the range holds `limit` more keys: the `limit`-th is found by skipping (the key is built for
    that one row only, in the outer query). Only the partition's last batch counts what is left.
    """
    where = _key_range(target, lower, upper)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in target.key)
    desc = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(c)) for c in target.key)
    table = qualified(schema, target.table)
    nth = conn.execute(
        sql.SQL(
            "SELECT jsonb_build_array({cols}) FROM (SELECT {cols} FROM {table}{where} ORDER BY {cols} "
            "OFFSET {skip} LIMIT 1) AS _ls_nth"
        ).format(cols=cols, table=table, where=where, skip=sql.Literal(limit - 1)),
        prepare=False,
    ).fetchone()
    if nth is not None:
        return limit, nth[0]
    rest = sql.SQL(
        "WITH batch AS (SELECT {cols} FROM {table}{where} ORDER BY {cols} LIMIT {limit}) "
        "SELECT (SELECT count(*) FROM batch), (SELECT jsonb_build_array({cols}) FROM batch ORDER BY {desc} LIMIT 1)"
    ).format(cols=cols, table=table, where=where, limit=sql.Literal(limit), desc=desc)
    seen, last = conn.execute(rest, prepare=False).fetchone()  # type: ignore[misc]
    return int(seen), last


def batch_update_statement(
    schema: str, target: BackfillTarget, lower: list[Any] | None, last: list[Any] | None, direct: bool
) -> sql.Composable:
    """Backfill the pending rows of (lower, last]: with `direct`, assign every `up` target from its
    expression over the row and mark the row; else only mark it (the dual-write trigger fills the rest).

    A key range with known bounds (not a join with the batch's keys, which the planner may turn into a
    hash join over the whole table for every batch) walks the key index.
    """
    where = sql.SQL(" WHERE false") if last is None else _key_range(target, lower, last)  # None: nothing left
    return marking_update(schema, target, where, direct)


class KeysetBatches:
    """Batches of `size` consecutive keys of the table's primary key (or unique NOT NULL key)."""

    def __init__(self, schema: str, target: BackfillTarget) -> None:
        self.schema, self.target = schema, target

    def run(
        self, conn: psycopg.Connection, last: list[Any] | None, upper: list[Any] | None, size: int, direct: bool
    ) -> BatchOutcome:
        seen, new_last = _batch_end(conn, self.schema, self.target, last, upper, size)
        statement = batch_update_statement(self.schema, self.target, last, new_last, direct)
        # never a generic plan: the bounds' actual values let the planner pick the index range scan
        conn.execute(statement, prepare=False)
        return BatchOutcome(seen=seen, last=new_last, finished=seen < size)


def batch_source(conn: psycopg.Connection, schema: str, target: BackfillTarget) -> BatchSource:
    """Key ranges where the table has a key, else physical block ranges (ctid_backfill.py)."""
    return KeysetBatches(schema, target) if target.key else BlockBatches(conn, schema, target)


def plan_partitions(conn: psycopg.Connection, schema: str, target: BackfillTarget, parallelism: int) -> list[Partition]:
    """Split the key range for parallel workers: even ranges of a single integer key, else one partition;
    a table without a key: even ranges of the blocks it has now (see ctid_backfill.py)."""
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


def init_checkpoints(
    conn: psycopg.Connection, migration: str, target: BackfillTarget, partitions: list[Partition]
) -> None:
    """Record partitions once; a second call (a retried activity) keeps the progress already made."""
    with conn.transaction():
        for p in partitions:
            conn.execute(
                "INSERT INTO liveshift.checkpoints (migration, table_name, partition, lower_key, upper_key, last_key) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (migration, target.table, p.index, Jsonb(p.lower), Jsonb(p.upper), Jsonb(p.lower)),
            )


def load_partitions(conn: psycopg.Connection, migration: str, table: str) -> list[Partition]:
    return [
        Partition(index=i, lower=lo, upper=hi)
        for i, lo, hi in conn.execute(
            "SELECT partition, lower_key, upper_key FROM liveshift.checkpoints "
            "WHERE migration = %s AND table_name = %s ORDER BY partition",
            (migration, table),
        )
    ]


def estimate_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    estimate = int(row[0]) if row and row[0] is not None else -1
    if estimate < 1_000_000:  # small or never analysed: an exact count is cheap enough
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(schema, table))).fetchone()
        return int(count[0]) if count else 0
    return estimate


def _lock_waiters(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = to_regclass(%s) AND NOT granted AND pid <> pg_backend_pid()",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    return int(row[0]) if row else 0


def _paused(conn: psycopg.Connection, migration: str) -> bool:
    row = conn.execute("SELECT paused FROM liveshift.migrations WHERE name = %s", (migration,)).fetchone()
    return bool(row and row[0])


def _use_path(conn: psycopg.Connection, direct: bool) -> None:
    """Not green either way: a touch runs the trigger's `up` path, exactly as a blue write does; a direct
    UPDATE skips the trigger (its WHEN clause) and computes the same `up` expressions itself."""
    conn.execute(
        sql.SQL("SET liveshift.version = {}").format(sql.Literal(BACKFILL_DIRECT if direct else BACKFILL_TOUCH))
    )


def run_partition(
    conn: psycopg.Connection,
    migration: str,
    schema: str,
    target: BackfillTarget,
    partition: int,
    throttle: Throttle | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hold_reason: Callable[[], str | None] | None = None,
) -> Progress:
    """Walk one key-range partition from its checkpoint to its end (or until `should_stop`); no batch
    starts while `hold_reason()` names a reason (see `replication.hold_reason_hook`)."""
    assert conn.autocommit, "the backfill manages its own transactions"
    walk = _Walk.resume(conn, migration, schema, target, partition, throttle or Throttle())
    walk.on_progress = on_progress or (lambda progress: None)
    walk.hold_reason = hold_reason or (lambda: None)
    stop = should_stop or (lambda: False)
    while not walk.progress.done:
        if stop():
            break
        paused = walk.hold_while_paused(stop)
        if paused == _STOPPED:
            return walk.progress
        held = walk.hold_while_held(stop)
        if held == _STOPPED:
            return walk.progress
        throttled = walk.step_aside_for_lock_waiters() or held or paused
        batch = walk.try_batch()
        if batch is not None:
            walk.advance(batch, throttled)
    return walk.progress


_STOPPED = "stopped"  # asked to stop while paused or held


@dataclass
class _Committed:
    seen: int
    last_key: list[Any] | None
    finished: bool
    seconds: float


@dataclass
class _Walk:
    """One partition's walk in progress: where it is, how big its next batch is, which path it takes."""

    conn: psycopg.Connection
    migration: str
    schema: str
    target: BackfillTarget
    throttle: Throttle
    upper: list[Any] | None
    last_key: list[Any] | None
    progress: Progress
    batch_size: int
    direct: bool
    source: BatchSource
    started: float = field(default_factory=time.monotonic)
    rows_since_start: int = 0
    on_progress: Callable[[Progress], None] = lambda progress: None
    hold_reason: Callable[[], str | None] = lambda: None

    @classmethod
    def resume(
        cls,
        conn: psycopg.Connection,
        migration: str,
        schema: str,
        target: BackfillTarget,
        partition: int,
        throttle: Throttle,
    ) -> _Walk:
        """From the partition's checkpoint, with the session set up for the backfill."""
        _use_path(conn, target.direct)
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{throttle.lock_timeout_ms}ms")))
        row = conn.execute(
            "SELECT last_key, upper_key, rows_done, batches, done FROM liveshift.checkpoints "
            "WHERE migration = %s AND table_name = %s AND partition = %s",
            (migration, target.table, partition),
        ).fetchone()
        if row is None:
            raise LookupError(f"no checkpoint for {migration}/{target.table}/{partition}: call init_checkpoints first")
        last_key, upper, rows_done, batches, done = row
        progress = Progress(
            table=target.table, partition=partition, rows_done=rows_done, batches=batches, last_key=last_key, done=done
        )
        return cls(
            conn=conn,
            migration=migration,
            schema=schema,
            target=target,
            throttle=throttle,
            upper=upper,
            last_key=last_key,
            progress=progress,
            batch_size=throttle.bounded(throttle.initial_batch),
            direct=target.direct,
            source=batch_source(conn, schema, target),
        )

    def hold_while_paused(self, stop: Callable[[], bool]) -> str | None:
        """Wait while the migration is paused (reporting so); `_STOPPED` when asked to stop meanwhile."""
        throttled = None
        while _paused(self.conn, self.migration):
            throttled = "paused"
            self.on_progress(self.progress.model_copy(update={"throttled": "paused"}))
            if stop():
                return _STOPPED
            time.sleep(self.throttle.pause_poll_s)
        return throttled

    def hold_while_held(self, stop: Callable[[], bool]) -> str | None:
        """Wait while `hold_reason` names a reason (replica lag, retained WAL, application health), reporting
        it; the last reason held for, or `_STOPPED` when asked to stop meanwhile."""
        held = None
        while (reason := self.hold_reason()) is not None:
            held = reason
            self.on_progress(self.progress.model_copy(update={"throttled": reason}))
            if stop():
                return _STOPPED
            time.sleep(self.throttle.pause_poll_s)
        return held

    def step_aside_for_lock_waiters(self) -> str | None:
        if not _lock_waiters(self.conn, self.schema, self.target.table):
            return None
        time.sleep(self.throttle.lock_wait_backoff_s)
        return "others wait on locks of the table"

    def try_batch(self) -> _Committed | None:
        """One batch with its checkpoint; None when it must be tried again (another path, a smaller batch)."""
        t0 = time.monotonic()
        try:
            with self.conn.transaction():
                seen, last_key, finished = self._batch()
        except (errors.ProgrammingError, errors.NotSupportedError) as exc:
            if not self.direct:
                raise
            # the direct UPDATE cannot be formed where the trigger's PL/pgSQL can, e.g. an `up` whose type
            # reaches the column only through the I/O conversion a PL/pgSQL assignment falls back to (a SET
            # allows assignment casts only), or an aggregate over the row's values: the trigger computes them
            # (the reference path: what it refuses too is raised from there)
            log.warning("backfill %s: direct UPDATE refused (%s); through the trigger", self.target.table, exc)
            self.direct = False
            _use_path(self.conn, self.direct)
            return None
        except (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure) as exc:
            self._back_off(type(exc).__name__)
            return None
        return _Committed(seen, last_key, finished, time.monotonic() - t0)

    def _batch(self) -> tuple[int, list[Any] | None, bool]:
        """Inside the batch's transaction: backfill the next rows, move the checkpoint past them.

        From the source's UPDATE to the commit, an application write to one of its rows waits for this
        transaction: what follows the UPDATE is sent in one round trip (a pipeline), then the commit.
        """
        conn = self.conn
        seen, new_last, finished = self.source.run(conn, self.last_key, self.upper, self.batch_size, self.direct)
        with conn.pipeline():
            if not finished:
                # no wait for the WAL flush at commit: a server crash may lose the last batches with their
                # checkpoint (never one without the other), which the next run redoes; the partition's final
                # commit waits, and with it everything before, so a partition reported done stays done
                conn.execute("SET LOCAL synchronous_commit = off")
            self._checkpoint(seen, new_last, finished)
        return seen, new_last, finished

    def _checkpoint(self, seen: int, new_last: list[Any] | None, finished: bool) -> None:
        """The partition's checkpoint past the batch, in the batch's transaction (only this walk writes it)."""
        self.conn.execute(
            "UPDATE liveshift.checkpoints SET last_key = %s, rows_done = rows_done + %s, batches = batches + 1,"
            " done = %s, updated_at = now() WHERE migration = %s AND table_name = %s AND partition = %s",
            (
                Jsonb(new_last if new_last is not None else self.last_key),
                seen,
                finished,
                self.migration,
                self.target.table,
                self.progress.partition,
            ),
        )

    def _back_off(self, error: str) -> None:
        """Row locks held by others: halve the batch, report, wait a little."""
        self.batch_size = max(self.throttle.min_batch, self.batch_size // 2)
        log.info(
            "backfill %s/%s: %s, batch size now %d", self.target.table, self.progress.partition, error, self.batch_size
        )
        self.progress = self.progress.model_copy(update={"throttled": f"row locks held by others ({error})"})
        self.on_progress(self.progress)
        time.sleep(self.throttle.lock_wait_backoff_s)

    def advance(self, batch: _Committed, throttled: str | None) -> None:
        """Past a committed batch: new progress, the next batch's size, the rows/s cap; then report."""
        if batch.last_key is not None:
            self.last_key = batch.last_key
        self.rows_since_start += batch.seen
        self.progress = Progress(
            table=self.target.table,
            partition=self.progress.partition,
            rows_done=self.progress.rows_done + batch.seen,
            batches=self.progress.batches + 1,
            last_key=self.last_key,
            done=batch.finished,
            batch_size=self.batch_size,
            batch_seconds=batch.seconds,
            rows_in_batch=batch.seen,
            throttled=throttled,
        )
        # adapt: aim at the target batch time, change by at most 2x per batch
        ratio = (self.throttle.target_batch_ms / 1000) / max(batch.seconds, 1e-3)
        self.batch_size = self.throttle.bounded(self.batch_size * min(2.0, max(0.5, ratio)))
        if self.throttle.max_rows_per_second:
            ahead = self.rows_since_start / self.throttle.max_rows_per_second - (time.monotonic() - self.started)
            if ahead > 0:
                self.progress = self.progress.model_copy(update={"throttled": "rows/s cap"})
                time.sleep(ahead)
        self.on_progress(self.progress)


def pending_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE {} = 'p'").format(qualified(schema, table), sql.Identifier(MARKER))
    ).fetchone()
    return int(row[0]) if row else 0
