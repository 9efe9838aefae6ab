"""The SQL statements inside a `DO $$ … $$` block (Flyway and hand-written migrations wrap DDL in one to make
it conditional): read with PostgreSQL's own PL/pgSQL parser (pglast), so lint can report their locks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, parse_plpgsql, parse_sql


def _body(node: ast.DoStmt) -> str | None:
    """The block's source, when its language is PL/pgSQL (the default)."""
    options = {opt.defname: opt.arg.sval for opt in node.args or () if isinstance(opt.arg, ast.String)}
    if options.get("language", "plpgsql").lower() != "plpgsql":
        return None
    return options.get("as")


def _queries(tree: Any) -> Iterator[str]:
    """Every statement's text in the parsed function, in order, every branch included (a migration's
    conditional DDL is there to run)."""
    if isinstance(tree, list):
        for item in tree:
            yield from _queries(item)
    elif isinstance(tree, dict):
        for key, value in tree.items():
            if key == "PLpgSQL_stmt_execsql":
                yield value["sqlstmt"]["PLpgSQL_expr"]["query"]
            elif key == "PLpgSQL_stmt_dynexecute":
                literal = _string_literal(value["query"]["PLpgSQL_expr"]["query"])
                if literal is not None:
                    yield literal
            else:
                yield from _queries(value)


def _string_literal(expr: str) -> str | None:
    """EXECUTE 'ALTER TABLE …': the string, when it is a constant (a built one, format(…), is not known)."""
    try:
        value = parse_sql(f"SELECT {expr}")[0].stmt.targetList[0].val
    except Exception:  # an expression lint cannot read is not a statement it can report on
        return None
    if isinstance(value, ast.A_Const) and isinstance(value.val, ast.String):
        return value.val.sval
    return None


def do_statements(node: ast.DoStmt) -> list[Any]:
    """The parsed statements a DO block runs (empty when its language is not PL/pgSQL or it does not parse)."""
    body = _body(node)
    if body is None:
        return []
    tag = "$lint_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    try:
        tree = parse_plpgsql(f"CREATE FUNCTION lint_do() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}")
    except Exception:  # PostgreSQL would refuse the block too: nothing in it runs
        return []
    statements = []
    for query in _queries(tree):
        try:
            statements += [raw.stmt for raw in parse_sql(query)]
        except Exception:  # e.g. a statement naming PL/pgSQL variables where SQL wants literals
            continue
    return statements
