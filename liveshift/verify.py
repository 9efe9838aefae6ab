"""Chunked comparison of the old and new representations of every row.

A row written from blue (or backfilled) must satisfy new = up(old); a row written from green
must satisfy old = down(new); a row still pending was missed by the backfill. Checks added
by the migration (e.g. a CHECK on a new column) must hold for every row. Each chunk is one
statement over a range of heap blocks (a sequential TID range scan), so it reads a consistent
snapshot without holding locks or a long transaction; why every row is checked, and why rows the
backfill wrote itself are checked again: docs/design.md, "Verify".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from liveshift.backfill.blocks import relation_blocks, rows_per_block
from liveshift.catalog.partitions import live_leaves
from liveshift.ddl.steps import qualified
from liveshift.errors import MigrationStateError
from liveshift.operations.base import Transform, VerifyCheck
from liveshift.plan import BackfillTarget, MigrationPlan
from liveshift.shape import row_expression
from liveshift.values import TableReport, VerifyReport
from liveshift.versions.triggers import MARKER

SAMPLE_SIZE = 10


def _transform_ok(transform: Transform) -> sql.Composable:
    # the write stored the expression cast to the column's type: compare that (an `up` of text for an
    # integer column has no integer = text operator); the expression reads the row's columns directly where
    # their logical names are physical (no correlated sub-select per row: the chunk's one FROM item is the row).
    # A volatile one gives another value now: the column holds one wherever the expression gives one
    template = (
        "({} IS NOT NULL OR CAST({} AS {}) IS NULL)"
        if transform.volatile
        else "({} IS NOT DISTINCT FROM CAST({} AS {}))"
    )
    return sql.SQL(template).format(
        sql.Identifier("_ls_r", transform.target),
        row_expression("_ls_r", transform.variables, transform.expression),
        sql.SQL(transform.target_type),
    )


def _check_ok(check: VerifyCheck) -> sql.Composable:
    return sql.SQL("({} IS NOT FALSE)").format(row_expression("_ls_r", check.variables, check.predicate))


def _all(parts: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


def row_ok_expression(transforms: list[Transform], checks: list[VerifyCheck]) -> sql.Composable:
    ups = [_transform_ok(t) for t in transforms if t.direction == "up"]
    downs = [_transform_ok(t) for t in transforms if t.direction == "down"]
    return sql.SQL("(CASE _ls_r.{m} WHEN 'b' THEN {ups} WHEN 'g' THEN {downs} ELSE false END AND {checks})").format(
        m=sql.Identifier(MARKER), ups=_all(ups), downs=_all(downs), checks=_all([_check_ok(c) for c in checks])
    )


def chunk_statement(schema: str, target: BackfillTarget, ok: sql.Composable, lo: int, hi: int | None) -> sql.Composable:
    """One chunk: the rows stored in heap blocks [lo, hi), or from block lo to the table's end (`hi` None), read
    in one sequential pass (a TID range scan: no index, no sort, nothing materialized). Per chunk: rows seen,
    rows not ok, and the smallest few bad keys (a key is turned into JSON only for a bad row). The bounds are
    literals, not client-side parameters: `ok` carries the user's expressions (shape.py)."""
    if target.key:
        order = sql.SQL(", ").join(sql.Identifier("_ls_r", k) for k in target.key)
        as_json = sql.SQL("jsonb_build_array({})").format(order)
    else:  # a table without a key: its rows are named by ctid
        order, as_json = sql.SQL("_ls_r.ctid"), sql.SQL("jsonb_build_array(_ls_r.ctid::text)")
    upper = sql.SQL("") if hi is None else sql.SQL(" AND _ls_r.ctid < CAST({} AS tid)").format(sql.Literal(f"({hi},0)"))
    return sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE NOT {ok}), "
        "(array_agg({json} ORDER BY {order}) FILTER (WHERE NOT {ok}))[1:{sample}] "
        "FROM {table} AS _ls_r WHERE _ls_r.ctid >= CAST({lower} AS tid){upper}"
    ).format(
        ok=ok, json=as_json, order=order, sample=sql.Literal(SAMPLE_SIZE), table=qualified(schema, target.table),
        lower=sql.Literal(f"({lo},0)"), upper=upper,
    )  # fmt: skip


def _blocks_and_chunk(conn: psycopg.Connection, schema: str, table: str, chunk: int) -> tuple[int, int]:
    """The table's heap blocks now, and how many make a chunk of about `chunk` rows."""
    blocks, _ = relation_blocks(conn, schema, table)
    return blocks, max(1, int(chunk / rows_per_block(conn, schema, table)))


def verify_table(
    conn: psycopg.Connection,
    schema: str,
    target: BackfillTarget,
    transforms: list[Transform],
    checks: list[VerifyCheck],
    chunk: int = 50_000,
) -> TableReport:
    """Every row of the table, in chunks of heap blocks; the last chunk runs to the table's end as it is then
    (blocks appended meanwhile hold rows written during verify, which the trigger wrote: see docs/design.md)."""
    report = TableReport(table=target.table)
    ok = row_ok_expression(transforms, checks)
    blocks, step = _blocks_and_chunk(conn, schema, target.table, chunk)
    sample: list[Any] = []
    for lo in range(0, max(blocks, 1), step):
        statement = chunk_statement(schema, target, ok, lo, None if lo + step >= blocks else lo + step)
        seen, bad, keys = conn.execute(statement).fetchone()  # type: ignore[misc]
        report.rows_checked += seen
        report.mismatches += bad
        sample = sorted([*sample, *(keys or [])])[:SAMPLE_SIZE]  # the smallest bad keys, in key order
    report.sample_keys = [k[0] if len(k) == 1 else k for k in sample]
    return report


def verify_targets(conn: psycopg.Connection, plan: MigrationPlan) -> list[BackfillTarget]:
    """The tables to read: each backfilled table; for a partitioned one, its leaf partitions as they are now.

    A partition created since prepare holds only rows the trigger wrote; one attached since holds rows no
    backfill touched, which verify reports as missed (pending) rows of that partition, so the migration stops
    there with its name instead of contracting over them. A partition detached since is no longer read."""
    targets: list[BackfillTarget] = []
    for target in plan.backfill_targets():
        if target.parent is None:
            targets.append(target)
        elif not any(t.parent == target.parent for t in targets):
            leaves = live_leaves(conn, plan.schema, target.parent)
            foreign = [f"{s}.{n}" for s, n in leaves if s != plan.schema]
            if foreign:
                raise MigrationStateError(
                    f"partitions {foreign} of table {target.parent!r} are outside schema {plan.schema!r} "
                    "(attached during the migration): liveshift walks partitions of the table's own schema only; "
                    "detach them or roll the migration back"
                )
            targets += [replace(target, table=name) for _, name in leaves]
    return targets


def verify(conn: psycopg.Connection, plan: MigrationPlan, chunk: int = 50_000) -> VerifyReport:
    report = VerifyReport()
    by_table = plan.trigger_tables()
    for target in verify_targets(conn, plan):
        checks = [c for c in plan.checks if c.table == target.source]
        report.tables.append(verify_table(conn, plan.schema, target, by_table.get(target.source, []), checks, chunk))
    return report
