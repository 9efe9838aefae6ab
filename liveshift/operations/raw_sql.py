"""raw_sql: `up` runs at expand, `down` at rollback, as given; liveshift neither checks nor models them.

The plan flags these steps as unchecked: their locks and effects are unknown to liveshift, and
the logical shape (green's views) does not include what they create. Each runs once: it
commits together with a record of it in `liveshift.raw_sql_runs`, so a retried expand does not
run `up` twice, and rollback runs `down` only when `up` ran.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import raw_sql_steps
from liveshift.operations.base import OpContext, OperationBase, OpPlan
from liveshift.store.schema import internal

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
        steps = raw_sql_steps(RUNS, ctx.migration, ctx.index, self.up, self.down)
        return OpPlan(expand=[steps.expand], rollback=[steps.rollback], contract=[steps.contract], unchecked=True)
