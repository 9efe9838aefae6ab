"""Which `up`/`down` expressions are volatile (`random()`, `gen_random_uuid()`, `clock_timestamp()`, `nextval(…)`).

Such an expression gives another value at every evaluation, so verify cannot recompute it to compare, and the
dual-write trigger must not draw a new value at every update of the row. Its column is then assigned once, as a
default is (triggers.py), and verify checks that the value is there (verify.py): docs/operations.md, "Volatile
expressions". The functions an expression calls are found by PostgreSQL's parser (pglast); whether one is
volatile, `pg_proc.provolatile` says, read at prepare and stored in the catalog snapshot
(`Catalog.volatile_functions`), so every phase decides alike.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor


class _Calls(Visitor):
    """(schema, name) of every function called. Unqualified, a name is pg_catalog's: the migration's own schema is
    qualified by then (qualify.py), and the trigger's pinned search_path finds nothing else."""

    def __init__(self) -> None:
        self.names: set[tuple[str, str]] = set()

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        parts = [part.sval for part in node.funcname if isinstance(part, ast.String)]
        self.names.add((parts[-2] if len(parts) > 1 else "pg_catalog", parts[-1]))


def called_functions(expression: str) -> set[tuple[str, str]]:
    """(schema, name) of the functions `expression` calls; none when it does not parse (the probes before expand
    report that)."""
    try:
        statements = parse_sql(f"SELECT (\n{expression}\n)")
    except ParseError:
        return set()
    calls = _Calls()
    for statement in statements:
        calls(statement)
    return calls.names


# Volatile when any function of that name in that schema is: an overload of another volatility is rare enough that
# erring towards "assign once" is the safe side.
_VOLATILE = """
SELECT DISTINCT f.nspname, f.proname FROM unnest(%s::text[], %s::text[]) AS f(nspname, proname)
JOIN pg_namespace n ON n.nspname = f.nspname
JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = f.proname
WHERE p.provolatile = 'v'
ORDER BY 1, 2
"""


def read_volatile(conn: psycopg.Connection, expressions: Iterable[str]) -> list[tuple[str, str]]:
    """The functions the expressions call that are volatile, as (schema, name)."""
    calls = sorted(set().union(*(called_functions(e) for e in expressions)))
    if not calls:
        return []
    return [(schema, name) for schema, name in conn.execute(_VOLATILE, ([c[0] for c in calls], [c[1] for c in calls]))]


def is_volatile(expression: str, volatile_functions: Iterable[tuple[str, str]]) -> bool:
    return not called_functions(expression).isdisjoint(tuple(f) for f in volatile_functions)
