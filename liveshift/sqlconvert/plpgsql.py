"""The SQL statements inside a `DO $$ … $$` block (Flyway and hand-written migrations wrap DDL in one to make
it conditional): read with PostgreSQL's own PL/pgSQL parser (pglast), so lint can report their locks."""

from __future__ import annotations

import re
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
            elif key == "PLpgSQL_stmt_dynexecute":  # EXECUTE 'ALTER …', EXECUTE format('ALTER TABLE %I …', t)
                literal = _string_literal(value["query"]["PLpgSQL_expr"]["query"])
                if literal is not None:
                    yield literal
            else:
                yield from _queries(value)


# what a statement built at run time is read with where its text is not constant: a name, a value
RUNTIME_NAME = '"(named at run time)"'
_RUNTIME_VALUE = "'(a value at run time)'"
_FORMAT_SPEC = re.compile(r"%(?:\d+\$)?-?\d*([ILs%])")


def _string_literal(expr: str) -> str | None:
    """EXECUTE's statement: the string when it is a constant (`EXECUTE 'ALTER TABLE …'`), or the text of one built
    with format() or `||` from constant pieces, each argument read as a name (`%I`, `%s`, a `||` operand) or a
    value (`%L`) known only at run time; None when there is no constant text to read."""
    try:
        value = parse_sql(f"SELECT {expr}")[0].stmt.targetList[0].val
    except Exception:  # an expression lint cannot read is not a statement it can report on
        return None
    return _built(value)


def _built(node: Any) -> str | None:
    """A statement's text from a constant, a format() of a constant template, or a `||` with a constant side."""
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return node.val.sval
    if isinstance(node, ast.FuncCall) and node.funcname[-1].sval == "format" and node.args:
        template = _built(node.args[0]) if isinstance(node.args[0], ast.A_Const) else None
        return None if template is None else _FORMAT_SPEC.sub(_placeholder, template)
    if isinstance(node, ast.A_Expr) and node.name and node.name[-1].sval == "||":
        parts = [_built(part) for part in (node.lexpr, node.rexpr)]
        if all(part is None for part in parts):
            return None
        return "".join(RUNTIME_NAME if part is None else part for part in parts)
    return None


def _placeholder(spec: re.Match[str]) -> str:
    return {"%": "%", "L": _RUNTIME_VALUE}.get(spec.group(1), RUNTIME_NAME)


def do_statements(node: ast.DoStmt) -> tuple[list[Any], bool]:
    """The parsed statements a DO block runs (empty when its language is not PL/pgSQL or it does not parse), and
    whether one was built at run time (its names and values unknown)."""
    body = _body(node)
    if body is None:
        return [], False
    tag = "$lint_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    try:
        tree = parse_plpgsql(f"CREATE FUNCTION lint_do() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}")
    except Exception:  # PostgreSQL would refuse the block too: nothing in it runs
        return [], False
    statements = []
    queries = list(_queries(tree))
    for query in queries:
        try:
            statements += [raw.stmt for raw in parse_sql(query)]
        except Exception:  # e.g. a statement naming PL/pgSQL variables where SQL wants literals
            continue
    return statements, any(RUNTIME_NAME in q or _RUNTIME_VALUE in q for q in queries)
