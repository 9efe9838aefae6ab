"""Every type and expression of a plan compiled, and each `up` evaluated on sample rows, against the live tables."""

from __future__ import annotations

import psycopg
from psycopg import sql

from liveshift.catalog import Column
from liveshift.errors import SpecError
from liveshift.operations.base import ExpressionProbe
from liveshift.plan import MigrationPlan
from liveshift.preflight.keyless import refusal as block_backfill_refusal
from liveshift.preflight.pinned import check_transforms
from liveshift.shape import shaped_relation, user_expression

# rows an `up` expression is tried on before expand
SAMPLE_ROWS = 1000


def _probe_sql(schema: str, plan: MigrationPlan, probe: ExpressionProbe, rows: int = 0) -> sql.Composable:
    """Compile (rows = 0) or evaluate over the first `rows` rows; count() makes every value be computed."""
    before = plan.physical.tables.get(probe.table)
    existing = {c.name for c in before.columns} if before else set()
    expr = user_expression(probe.expression)
    if probe.type == "boolean":
        # a condition must be boolean itself: CAST would accept an integer
        expr = sql.SQL("CASE WHEN {} THEN true ELSE false END").format(expr)
    elif probe.type:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(probe.type))
    return sql.SQL(
        "SELECT count(_ls_value) FROM (SELECT {} AS _ls_value FROM {} AS _ls_row LIMIT {}) AS _ls_probe"
    ).format(expr, shaped_relation(schema, probe.table, probe.variables, existing), sql.Literal(rows))


def check_live(conn: psycopg.Connection, plan: MigrationPlan, file: str | None = None) -> None:
    """Compile every type and expression of the plan against the live tables; touches nothing."""
    _check_keyless_backfills(conn, plan, file)
    for index, fld, op, probe in plan.probes():
        where = {"file": file, "index": index, "op": op.op_name, "field": fld}
        if isinstance(probe, tuple):
            _, typ = probe
            if _created_here(plan, typ):
                continue  # an enum type the migration creates first: not there to compile against yet
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute(sql.SQL("SELECT CAST(NULL AS {})").format(sql.SQL(typ)), prepare=True)
            except psycopg.Error as exc:
                raise SpecError(f"unknown type {typ!r}: {_first_line(exc)}", **where) from None
            continue
        if _uses_created(plan, probe.type, probe.variables):
            continue  # over an enum type the migration creates first: nothing to compile against before expand
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET TRANSACTION READ ONLY")
                # prepare=True: the extended protocol refuses a second statement smuggled into an expression
                conn.execute(_probe_sql(plan.schema, plan, probe), prepare=True)
        except psycopg.Error as exc:
            raise SpecError(
                f"expression {probe.expression!r} does not compile against table {probe.table!r}: {_first_line(exc)}",
                **where,
            ) from None
        if not probe.sample:
            continue
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(_probe_sql(plan.schema, plan, probe, SAMPLE_ROWS), prepare=True)
        except psycopg.Error as exc:
            raise SpecError(
                f"expression {probe.expression!r} fails on existing rows of table {probe.table!r}: {_first_line(exc)}",
                **where,
            ) from None
    existing = {name: {c.name for c in t.columns} for name, t in plan.physical.tables.items()}
    transforms = [
        (ctx.index, op.op_name, t)
        for op, ctx, p in plan.ops
        for t in p.transforms
        if not t.generated and not _uses_created(plan, t.target_type, t.variables)
    ]
    check_transforms(conn, plan.schema, existing, transforms, file)


def _created_here(plan: MigrationPlan, typ: str) -> bool:
    """Whether `typ` (maybe schema-qualified, maybe an array) names an enum type this migration creates."""
    created = set(plan.final.enums) - set(plan.physical.enums)
    name = typ.strip().removesuffix("[]").replace('"', "")
    return name in created or name.removeprefix(f"{plan.schema}.") in created


def _uses_created(plan: MigrationPlan, typ: str | None, variables: tuple[Column, ...]) -> bool:
    return any(_created_here(plan, t) for t in (typ, *(c.type for c in variables)) if t)


def _check_keyless_backfills(conn: psycopg.Connection, plan: MigrationPlan, file: str | None) -> None:
    """A table without a key is backfilled by ctid block ranges: refused where the server cannot run them."""
    for target in plan.backfill_targets():
        reason = None if target.key else block_backfill_refusal(conn, plan.schema, target.table)
        if reason is not None:
            index, op = plan.filled_by(target.source)
            raise SpecError(reason, file=file, index=index, op=op, field="table")


def _first_line(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).splitlines()[0]
