"""An index over a column that a column swap replaces, built again on the hidden column with every option it had.

PostgreSQL's own `ALTER TABLE … ALTER COLUMN … TYPE` rebuilds such an index by parsing its definition again (the
text pg_get_indexdef prints) against the new column. A swap does the same from the same text, parsed with pglast:
only the index's name, the column's name (in key columns, INCLUDE, expressions and the predicate) and
CONCURRENTLY change; the access method, operator classes (printed only where not the type's default, so a default
one follows the new type, as with the plain statement) and their options, collations, ordering, NULLS placement,
INCLUDE, NULLS NOT DISTINCT, the predicate, storage parameters and tablespace are kept as they are.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream
from pglast.visitors import Visitor


class _Rename(Visitor):
    """Column references and index elements naming `old` name `new` instead."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> ast.ColumnRef | None:
        last = node.fields[-1]
        if isinstance(last, ast.String) and last.sval == self.old:
            return ast.ColumnRef(fields=(*node.fields[:-1], ast.String(sval=self.new)), location=node.location)
        return None

    def visit_IndexElem(self, ancestors: object, node: ast.IndexElem) -> None:
        if node.name == self.old:
            node.name = self.new


def _index_statement(definition: str) -> ast.IndexStmt | None:
    try:
        statements = parse_sql(definition)
    except ParseError:
        return None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.IndexStmt):
        return None
    return statements[0].stmt


def rebuilt_index(
    definition: str,
    schema: str,
    table: str,
    name: str,
    old: str,
    new: str,
    tablespace: str | None = None,
    *,
    on_only: bool = False,
) -> str | None:
    """`CREATE … INDEX CONCURRENTLY IF NOT EXISTS name ON schema.table …` from `definition` (pg_get_indexdef of
    an index on `table`, or on the partitioned table `table` is a partition of) with column `old` replaced by
    `new`; None when the text is not one CREATE INDEX. `tablespace`: the index's own (pg_get_indexdef does not
    print it), None for the database's default. `on_only`: `CREATE … INDEX … ON ONLY` instead, not concurrently
    (a partitioned table's own index, partitioned_index.py)."""
    statement = _index_statement(definition)
    if statement is None:
        return None
    _Rename(old, new)(statement)
    statement.idxname = name
    statement.relation = ast.RangeVar(schemaname=schema, relname=table, inh=not on_only, relpersistence="p")
    statement.concurrent = not on_only
    statement.if_not_exists = True
    statement.tableSpace = tablespace
    return RawStream()(statement)


def rebuilt_unique(definition: str, old: str, new: str) -> str | None:
    """A unique constraint's `definition` (pg_get_constraintdef: `UNIQUE [NULLS NOT DISTINCT] (…) [INCLUDE (…)]
    [WITH (…)]`) with column `old` replaced by `new`; None when it is not one such constraint. For a
    partitioned table, whose constraint cannot be attached USING INDEX (partitioned_index.py)."""
    try:
        statements = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")
    except ParseError:
        return None
    statement = statements[0].stmt if len(statements) == 1 else None
    constraint = statement.cmds[0].def_ if isinstance(statement, ast.AlterTableStmt) else None
    if not isinstance(constraint, ast.Constraint) or constraint.keys is None:
        return None

    def renamed(names: tuple[ast.String, ...] | None) -> tuple[ast.String, ...] | None:
        return None if names is None else tuple(ast.String(sval=new if n.sval == old else n.sval) for n in names)

    constraint.keys, constraint.including = renamed(constraint.keys), renamed(constraint.including)
    constraint.conname = None
    return RawStream()(constraint)


def renamed_expression(expression: str, old: str, new: str) -> str | None:
    """`expression` (catalog text, e.g. a generated column's) with column `old` named `new`; None when it does not
    read as one expression."""
    try:
        statements = parse_sql(f"SELECT ({expression})")
    except ParseError:
        return None
    select = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(select, ast.SelectStmt) or len(select.targetList or ()) != 1:
        return None
    _Rename(old, new)(select)
    return RawStream()(select.targetList[0].val)
