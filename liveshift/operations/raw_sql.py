"""raw_sql: `up` runs at expand, `on_complete` at contract, `down` at rollback, as given; liveshift checks none.
`up` may be left out when `on_complete` is given (pgroll's `sql` with `onComplete: true` runs only at complete).

The plan flags these steps as unchecked: their locks and effects are unknown to liveshift. Of what `up` does,
the logical shape knows one thing: a plain CREATE TABLE of the migration's schema (read with pglast) gives a
table green's version shows, as create_table's would. Each runs once: `up` commits together with a record of it
in `liveshift.raw_sql_runs`, so a retried expand does not run it twice; `on_complete` (pgroll's onComplete)
commits with the record's removal, so a retried contract does not either; rollback runs `down` only when `up` ran.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Column, Table
from liveshift.ddl.statements import raw_sql_on_complete, raw_sql_steps
from liveshift.operations.base import OpContext, OperationBase, OpPlan, replace_table
from liveshift.store.schema import internal

RUNS = internal("raw_sql_runs")  # created with the internal schema (state.py)


def created_tables(text: str, schema: str) -> list[Table]:
    """The plain tables `text` creates in `schema` (unqualified or qualified by it), with their columns; not
    temporary tables, partitions, inheriting or typed tables (their columns are not all in the statement)."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        statements = [raw.stmt for raw in parse_sql(text)]
    except ParseError:
        return []
    tables = []
    for stmt in statements:
        if not isinstance(stmt, ast.CreateStmt) or stmt.relation.schemaname not in (None, schema):
            continue
        if stmt.relation.relpersistence == "t" or stmt.partbound or stmt.inhRelations or stmt.ofTypename:
            continue
        columns = [
            Column(name=c.colname, type=RawStream()(c.typeName))
            for c in stmt.tableElts or ()
            if isinstance(c, ast.ColumnDef)
        ]
        tables.append(Table(name=stmt.relation.relname, columns=columns))
    return tables


class RawSql(OperationBase):
    op_name: ClassVar[str] = "raw_sql"
    op: Literal["raw_sql"] = "raw_sql"
    up: str | None = Field(None, min_length=1, description="run at expand; optional when on_complete is given")
    down: str | None = Field(None, min_length=1)
    on_complete: str | None = Field(None, min_length=1, description="run at contract, once")

    def check(self, catalog: Catalog) -> None:
        # by design, raw SQL is not checked against the catalog; it only needs something to run
        if self.up is None and self.on_complete is None:
            raise self.fail("up", "give up (run at expand), on_complete (run at contract), or both")

    def apply(self, catalog: Catalog) -> Catalog:
        for table in created_tables(self.up or "", catalog.schema_name):
            if table.name not in catalog.tables:
                catalog = replace_table(catalog, table.name, table)
        return catalog

    def plan(self, ctx: OpContext) -> OpPlan:
        # without up, expand still records the run: on_complete runs at contract only where the record is
        steps = raw_sql_steps(RUNS, ctx.migration, ctx.index, self.up or "SELECT NULL", self.down)
        contract = steps.contract
        if self.on_complete is not None:
            contract = raw_sql_on_complete(RUNS, ctx.migration, ctx.index, self.on_complete)
        return OpPlan(expand=[steps.expand], rollback=[steps.rollback], contract=[contract], unchecked=True)
