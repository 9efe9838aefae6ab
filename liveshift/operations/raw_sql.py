"""raw_sql: `up` runs at expand, `down` at rollback, as given; liveshift neither checks nor models them.

The plan flags these steps as unchecked: their locks and effects are unknown to liveshift, and
the logical shape (green's views) does not include what they create. Each runs once: it
commits together with a record of it in `liveshift.raw_sql_runs`, so a retried expand does not
run `up` twice, and rollback runs `down` only when `up` ran.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from psycopg import sql
from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.state import internal
from liveshift.steps import NO_TABLE_LOCK, UNCHECKED, Step

RUNS = internal("raw_sql_runs")  # created with the internal schema (state.py)


class RawSql(OperationBase):
    op_name: ClassVar[str] = "raw_sql"
    op: Literal["raw_sql"] = "raw_sql"
    up: str = Field(min_length=1)
    down: str | None = Field(None, min_length=1)

    def check(self, catalog: Catalog) -> None:
        return None  # by design: raw SQL is not checked against the catalog

    def apply(self, catalog: Catalog) -> Catalog:
        return catalog

    def plan(self, ctx: OpContext) -> OpPlan:
        key = sql.SQL("migration = {} AND op_index = {}").format(sql.Literal(ctx.migration), sql.Literal(ctx.index))
        has_run = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(RUNS, key)
        # the user's SQL on lines of its own, so a trailing comment cannot swallow what follows
        run_up = Step(
            f"raw SQL up (operation {ctx.index})",
            sql.SQL("{}\n;\nINSERT INTO {} VALUES ({}, {})").format(
                sql.SQL(self.up), RUNS, sql.Literal(ctx.migration), sql.Literal(ctx.index)
            ),
            lock=UNCHECKED,
            skip_if=has_run,
            unchecked=True,
        )
        forget = sql.SQL("DELETE FROM {} WHERE {}").format(RUNS, key)
        if self.down is not None:
            undo = Step(
                f"raw SQL down (operation {ctx.index})",
                sql.SQL("{}\n;\n{}").format(sql.SQL(self.down), forget),
                lock=UNCHECKED,
                skip_if=sql.SQL("SELECT NOT ({})").format(has_run),
                unchecked=True,
            )
        else:
            undo = Step(f"forget raw SQL of operation {ctx.index} (no down given)", forget, lock=NO_TABLE_LOCK)
        return OpPlan(
            expand=[run_up],
            rollback=[undo],
            contract=[Step(f"forget raw SQL of operation {ctx.index}", forget, lock=NO_TABLE_LOCK)],
            unchecked=True,
        )
