"""Keyset batches: consecutive keys of the table's primary key (or unique NOT NULL key), one batch a key range.

A table without a key is walked by block ranges instead (blocks.py); both are batch sources (batches.py)
of the same loop, `walk.run_partition`.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from liveshift.backfill.batches import BatchOutcome, marking_update
from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget


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
