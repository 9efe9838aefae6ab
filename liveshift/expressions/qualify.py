"""Names of the migration's own schema in the expressions that run inside pinned code, qualified.

The dual-write trigger function runs with `search_path = pg_catalog, pg_temp` (pinned.py), so an `up` or
`down` that names a table, type or function of the migration's schema unqualified (`m::mood`,
`(SELECT name FROM users …)`, `slugify(title)`) would not resolve there. Such a name is qualified with the
schema when it resolves in that schema and not in pg_catalog (where the pinned path finds it first, as any
session would); everything else is left as written. The names come from the catalog snapshot prepare
stored (`Catalog.names`), never from the live catalog at a later phase, so every phase, recomputing the plan
from that snapshot (`engine.plan_of`), rewrites to the same text. The expression is read and written by
PostgreSQL's own parser (pglast); one that needs no qualification is kept as the user wrote it.
"""

from __future__ import annotations

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream
from pglast.visitors import Visitor
from pydantic import BaseModel, Field


class SchemaNames(BaseModel):
    """Names of a schema that pg_catalog does not also have: what an unqualified name may resolve to there."""

    relations: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)
    functions: list[str] = Field(default_factory=list)


_NAMES = """
SELECT 'relation', c.relname FROM pg_class c
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_class k WHERE k.relnamespace = 'pg_catalog'::regnamespace AND k.relname = c.relname)
UNION
SELECT 'type', t.typname FROM pg_type t
WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
  AND NOT EXISTS (SELECT 1 FROM pg_type k WHERE k.typnamespace = 'pg_catalog'::regnamespace AND k.typname = t.typname)
UNION
SELECT 'function', p.proname FROM pg_proc p
WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
  AND NOT EXISTS (SELECT 1 FROM pg_proc k WHERE k.pronamespace = 'pg_catalog'::regnamespace AND k.proname = p.proname)
ORDER BY 1, 2
"""


def read_schema_names(conn: psycopg.Connection, schema: str) -> SchemaNames:
    names = SchemaNames()
    for kind, name in conn.execute(_NAMES, {"schema": schema}):
        getattr(names, {"relation": "relations", "type": "types", "function": "functions"}[kind]).append(name)
    return names


class _CteNames(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_CommonTableExpr(self, ancestors: object, node: ast.CommonTableExpr) -> None:
        self.names.add(node.ctename)


class _Qualify(Visitor):
    """Qualifies in place; `changed` tells whether it did."""

    def __init__(self, schema: str, names: SchemaNames, ctes: set[str]) -> None:
        self.schema = schema
        self.relations = set(names.relations) - ctes  # a CTE's name is not the table's
        self.types, self.functions = set(names.types), set(names.functions)
        self.changed = False

    def _qualified(self, parts: tuple[ast.String, ...], known: set[str]) -> tuple[ast.String, ...] | None:
        if len(parts) == 1 and isinstance(parts[0], ast.String) and parts[0].sval in known:
            self.changed = True
            return (ast.String(sval=self.schema), parts[0])
        return None

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.schemaname is None and node.relname in self.relations:
            node.schemaname = self.schema
            self.changed = True

    def visit_TypeName(self, ancestors: object, node: ast.TypeName) -> None:
        names = self._qualified(tuple(node.names or ()), self.types)
        if names is not None:
            node.names = names

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        names = self._qualified(tuple(node.funcname), self.functions)
        if names is not None:
            node.funcname = names


def qualify(expression: str, schema: str, names: SchemaNames) -> str:
    """`expression` with its unqualified names of `schema` (see the module doc) qualified; as written when none
    needs it, or when it does not parse as one expression (the probes before expand report that)."""
    if not (names.relations or names.types or names.functions):
        return expression
    try:
        statements = parse_sql(f"SELECT (\n{expression}\n)")
    except ParseError:
        return expression
    select = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(select, ast.SelectStmt) or not select.targetList or len(select.targetList) != 1:
        return expression
    ctes = _CteNames()
    ctes(select)
    visitor = _Qualify(schema, names, ctes.names)
    visitor(select)
    return RawStream()(select.targetList[0].val) if visitor.changed else expression
