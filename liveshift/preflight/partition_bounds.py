"""Rows that would stop a partition being attached or created, found at plan rather than minutes into expand.

Expand validates a CHECK that proves the new partition's bound on the table to attach, and its exclusion on
the DEFAULT partition (operations/partition_lifecycle.py); a row on the wrong side makes that VALIDATE fail, after
a scan of the whole table. Plan looks for one first, under ACCESS SHARE only and for a few seconds at most: a
table too large to search in that time is left to the VALIDATE, which names the constraint.
"""

from __future__ import annotations

import psycopg
from psycopg import errors, sql

from liveshift.ddl.steps import qualified
from liveshift.errors import SpecError
from liveshift.operations.partition_lifecycle import NewPartitionOp
from liveshift.plan import MigrationPlan

SEARCH_MS = 3000


def _holds_a_row(conn: psycopg.Connection, schema: str, relation: str, predicate: sql.Composable) -> bool | None:
    """Whether `relation` has a row satisfying `predicate`; None when the search ran out of time."""
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(qualified(schema, relation), predicate)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{SEARCH_MS}ms")))
            row = conn.execute(query).fetchone()
            conn.execute("SET LOCAL statement_timeout TO DEFAULT")  # a savepoint released keeps a SET LOCAL
    except errors.QueryCanceled:
        return None
    return bool(row and row[0])


def check_bounds(conn: psycopg.Connection, plan: MigrationPlan, file: str | None = None) -> None:
    """Refuse a partition to attach holding rows outside its bound, or a DEFAULT partition holding rows within it."""
    for op, ctx, _ in plan.ops:
        if not isinstance(op, NewPartitionOp):
            continue
        table = ctx.before.tables[op.table]
        attached = op.partition if op.op_name == "attach_partition" else None
        for relation, predicate in op.misplaced(table, attached):
            if _holds_a_row(conn, plan.schema, relation, predicate):
                side = "outside" if relation == attached else "within"
                raise SpecError(
                    f"{relation!r} holds rows {side} the bound of the new partition {op.partition!r} of "
                    f"{op.table!r}: the migration would stop at their check; move them first",
                    file=file,
                    index=ctx.index,
                    op=op.op_name,
                    field="partition" if relation == attached else "table",
                )
