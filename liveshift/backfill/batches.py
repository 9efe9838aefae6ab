"""What a backfill batch is, whichever way a table's rows are walked (key ranges or physical block ranges).

A batch source turns "about `size` rows after the checkpoint `last`" into one marking UPDATE over a
range it can name again after a restart; `run_partition` (backfill.py) owns the loop around it: the
transaction, the checkpoint, pausing, throttling and the adaptive size.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import psycopg
from psycopg import sql

from liveshift.ddl.steps import qualified
from liveshift.plan import BackfillTarget
from liveshift.shape import row_expression
from liveshift.versions.triggers import MARKER

ROW_ALIAS = "_ls_r"


class BatchOutcome(NamedTuple):
    seen: int  # rows the batch accounts for in the partition's progress
    last: list[Any] | None  # the checkpoint after it (None: the checkpoint stays where it was)
    finished: bool  # the partition has nothing left after it
    settled: int | None = None  # rows the checkpoint moves past (None: `seen`; 0: it stays, mid-window)
    cursor: Any = None  # the source's position within its checkpoint, handed back to the next batch
    size: int | None = None  # the batch size it ran at, where not the one asked (a window's turns keep theirs)


class BatchRequest(NamedTuple):
    """What the walk asks of its source for the next batch."""

    last: list[Any] | None  # the partition's checkpoint
    upper: list[Any] | None  # the partition's end (None: the table's)
    size: int  # about this many rows
    direct: bool  # compute the new columns in the UPDATE (else only mark the rows: the trigger computes them)
    cursor: Any = None  # the last committed batch's outcome's (None after a restart; a failed batch's retry reuses it)


class BatchSource(Protocol):
    def run(self, conn: psycopg.Connection, request: BatchRequest) -> BatchOutcome:
        """Backfill the next batch after `request.last` (within `request.upper`), inside the caller's
        transaction."""
        ...


def marking_update(schema: str, target: BackfillTarget, where: sql.Composable, direct: bool) -> sql.Composable:
    """`UPDATE … SET … {where} AND marker = 'p'`: with `direct`, assign every `up` target from its expression
    over the row and mark the row; else only mark it (the dual-write trigger fills the rest).

    `where` is a `WHERE …` clause over the table, aliased `_ls_r` (ROW_ALIAS), or `FROM … WHERE …` joining it.
    """
    assignments = [
        sql.SQL("{} = {}").format(sql.Identifier(t.target), row_expression(ROW_ALIAS, t.variables, t.expression))
        for t in (target.ups if direct else ())
    ]
    assignments.append(sql.SQL("{} = 'b'").format(sql.Identifier(MARKER)))
    return sql.SQL("UPDATE {table} AS {row} SET {assignments}{where} AND {marker} = 'p'").format(
        table=qualified(schema, target.table),
        row=sql.Identifier(ROW_ALIAS),
        assignments=sql.SQL(", ").join(assignments),
        marker=sql.Identifier(MARKER),
        where=where,
    )
