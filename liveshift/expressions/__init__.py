"""What a user expression reads, from PostgreSQL's own parser (pglast, the libpg_query binding).

Used to decide whether one backfill UPDATE can compute every `up` of a table: that depends on the
columns each expression actually names, not on every column of the shape it is evaluated over.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor


class _ColumnRefs(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.star = False

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
        last = node.fields[-1]
        if isinstance(last, ast.A_Star):
            self.star = True
        elif isinstance(last, ast.String):
            self.names.add(last.sval)


def columns_read(expression: str) -> frozenset[str] | None:
    """The column names `expression` references (in subqueries too: over-approximating is safe).

    None when it cannot be told: the expression does not parse as one, or it reads `*`/`t.*`.
    A qualified reference `t.col` counts as `col`.
    """
    try:
        statements = parse_sql(f"SELECT ({expression})")
    except ParseError:
        return None
    if len(statements) != 1:
        return None
    refs = _ColumnRefs()
    refs(statements[0])
    return None if refs.star else frozenset(refs.names)
