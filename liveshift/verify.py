"""Chunked comparison of the old and new representations of every row.

A row written from blue (or backfilled) must satisfy new = up(old); a row written from green
must satisfy old = down(new); a row still pending was missed by the backfill. Checks added
by the migration (e.g. a CHECK on a new column) must hold for every row. Each chunk is one
statement over a key range (a physical block range for a table without a key), so it reads a
consistent snapshot without holding locks.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
from psycopg import sql

from liveshift.ctid_backfill import block_range, relation_blocks, rows_per_block
from liveshift.operations.base import Transform, VerifyCheck
from liveshift.plan import BackfillTarget, MigrationPlan
from liveshift.shape import bound_expression
from liveshift.steps import qualified
from liveshift.triggers import MARKER
from liveshift.values import TableReport, VerifyReport

SAMPLE_SIZE = 10


def _transform_ok(transform: Transform) -> sql.Composable:
    # the write stored the expression cast to the column's type: compare that (an `up` of text for an
    # integer column has no integer = text operator)
    return sql.SQL("({} IS NOT DISTINCT FROM CAST({} AS {}))").format(
        sql.Identifier("_ls_r", transform.target),
        bound_expression("_ls_r", transform.variables, transform.expression),
        sql.SQL(transform.target_type),
    )


def _check_ok(check: VerifyCheck) -> sql.Composable:
    return sql.SQL("({} IS NOT FALSE)").format(bound_expression("_ls_r", check.variables, check.predicate))


def _all(parts: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


def row_ok_expression(transforms: list[Transform], checks: list[VerifyCheck]) -> sql.Composable:
    ups = [_transform_ok(t) for t in transforms if t.direction == "up"]
    downs = [_transform_ok(t) for t in transforms if t.direction == "down"]
    return sql.SQL("(CASE _ls_r.{m} WHEN 'b' THEN {ups} WHEN 'g' THEN {downs} ELSE false END AND {checks})").format(
        m=sql.Identifier(MARKER), ups=_all(ups), downs=_all(downs), checks=_all([_check_ok(c) for c in checks])
    )


def verify_table(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    transforms: list[Transform],
    checks: list[VerifyCheck],
    chunk: int = 50_000,
) -> TableReport:
    if not target.key:
        return verify_blocks(conn, schema, target, transforms, checks, chunk)
    report = TableReport(table=target.table)
    ok = row_ok_expression(transforms, checks)
    key = sql.SQL(", ").join(sql.Identifier("_ls_r", k) for k in target.key)
    order = sql.SQL(", ").join(sql.Identifier(k) for k in target.key)
    desc = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(k)) for k in target.key)
    keyrow = sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(k) for k in target.key))
    casts = sql.SQL("({})").format(
        sql.SQL(", ").join(sql.SQL("CAST(%s AS {})").format(sql.SQL(t)) for t in target.key_types)
    )
    last: list[Any] | None = None
    while True:
        where = sql.SQL("WHERE {} > {}").format(keyrow, casts) if last is not None else sql.SQL("")
        statement = sql.SQL(
            "WITH chunk AS (SELECT * FROM {table} {where} ORDER BY {order} LIMIT {n}) "
            "SELECT count(*), count(*) FILTER (WHERE NOT ok), "
            "(array_agg(k ORDER BY k) FILTER (WHERE NOT ok))[1:{sample}], "
            "(SELECT jsonb_build_array({order}) FROM chunk ORDER BY {desc} LIMIT 1) "
            "FROM (SELECT {ok} AS ok, jsonb_build_array({key}) AS k FROM chunk AS _ls_r) AS v"
        ).format(
            table=qualified(schema, target.table),
            where=where,
            order=order,
            n=sql.Literal(chunk),
            sample=sql.Literal(SAMPLE_SIZE),
            desc=desc,
            ok=ok,
            key=key,
        )
        params = [None if v is None else str(v) for v in last] if last is not None else []
        seen, bad, sample, new_last = conn.execute(statement, params).fetchone()  # type: ignore[misc]
        _count_chunk(report, seen, bad, [k[0] if len(k) == 1 else k for k in sample] if sample else None)
        if seen < chunk or new_last is None:
            return report
        last = new_last


def _count_chunk(report: TableReport, seen: int, bad: int, sample: list[Any] | None) -> None:
    report.rows_checked += seen
    report.mismatches += bad
    if sample and len(report.sample_keys) < SAMPLE_SIZE:
        report.sample_keys = (report.sample_keys + sample)[:SAMPLE_SIZE]


def verify_blocks(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    transforms: list[Transform],
    checks: list[VerifyCheck],
    chunk: int = 50_000,
) -> TableReport:
    """A table without a key, in chunks of about `chunk` rows by physical block range (ctid_backfill.py) up to
    the table's end, read again when reached (rows appended meanwhile are checked too); sample keys are ctids.

    A row an application moves into a block already checked is not checked again: its new version was
    written through the trigger, as after a keyset chunk.
    """
    report = TableReport(table=target.table)
    blocks = max(1, math.ceil(chunk / rows_per_block(conn, schema, target.table)))
    statement = sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE NOT ok), "
        "(array_agg(k ORDER BY tid) FILTER (WHERE NOT ok))[1:{sample}] "
        "FROM (SELECT {ok} AS ok, _ls_r.ctid AS tid, _ls_r.ctid::text AS k FROM {table} AS _ls_r{where}) AS v"
    )
    start, end = 0, relation_blocks(conn, schema, target.table)[0]
    while start < end:
        stop = min(end, start + blocks)
        where, params = block_range(start, stop)
        query = statement.format(
            sample=sql.Literal(SAMPLE_SIZE),
            ok=row_ok_expression(transforms, checks),
            table=qualified(schema, target.table),
            where=where,
        )
        seen, bad, sample = conn.execute(query, params).fetchone()  # type: ignore[misc]
        _count_chunk(report, seen, bad, sample)
        start = stop
        if start >= end:
            end = relation_blocks(conn, schema, target.table)[0]
    return report


def verify(conn: psycopg.Connection, plan: MigrationPlan, chunk: int = 50_000) -> VerifyReport:
    report = VerifyReport()
    by_table = plan.trigger_tables()
    for target in plan.backfill_targets():
        checks = [c for c in plan.checks if c.table == target.table]
        report.tables.append(verify_table(conn, plan.schema, target, by_table.get(target.table, []), checks, chunk))
    return report
