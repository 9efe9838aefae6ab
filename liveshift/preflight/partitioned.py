"""A partitioned table, refused where liveshift cannot yet carry it through: its rows are not backfilled or verified
(both walk a table's own storage, which a partitioned table has not: only its partitions do), and an index is not
built on it CONCURRENTLY (PostgreSQL refuses). Found by the corpus (tests/data/corpus, partitioned.sql): plan
accepted these, and the migration failed at expand or verify."""

from __future__ import annotations

import psycopg

from liveshift.errors import SpecError
from liveshift.plan import MigrationPlan

WHAT_TO_DO = "migrate each partition instead, or run the plain statement in a maintenance window"


def _partitioned(conn: psycopg.Connection, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'p'",
        (schema,),
    ).fetchall()
    return {r[0] for r in rows}


def check_partitioned(conn: psycopg.Connection, plan: MigrationPlan, file: str | None) -> None:
    """Refuse, naming the operation and the table, a backfill of a partitioned table or an index built
    concurrently on one."""
    partitioned = _partitioned(conn, plan.schema)
    if not partitioned:
        return
    for op, ctx, op_plan in plan.ops:
        where = {"file": file, "index": ctx.index, "op": op.op_name, "field": "table"}
        filled = {t.table for t in op_plan.transforms if t.direction == "up"} & partitioned
        if filled:
            table = sorted(filled)[0]
            raise SpecError(
                f"table {table!r} is partitioned: its rows cannot be backfilled and verified yet; {WHAT_TO_DO}",
                **where,  # type: ignore[arg-type]
            )
        steps = op_plan.structure + op_plan.expand + op_plan.contract_first + op_plan.contract
        for step in steps:
            lock = step.lock
            tables = {t for s, t in lock.tables if s == plan.schema} & partitioned if lock else set()
            if lock is not None and lock.concurrently and tables:
                raise SpecError(
                    f"table {sorted(tables)[0]!r} is partitioned: an index cannot be built on it CONCURRENTLY "
                    f"(PostgreSQL refuses); {WHAT_TO_DO}",
                    **where,  # type: ignore[arg-type]
                )
