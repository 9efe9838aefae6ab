"""Turning pglast nodes back into the SQL text a migration file holds, and PostgreSQL's default names."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.stream import RawStream
from pglast.visitors import Visitor

MAX_IDENT = 63


def deparse(node: Any) -> str:
    return str(RawStream()(node))


def type_name(node: ast.TypeName) -> str:
    return deparse(node)


def relation(node: ast.RangeVar) -> tuple[str | None, str]:
    return node.schemaname, node.relname


def pg_name(table: str, columns: list[str], suffix: str) -> str:
    """PostgreSQL's default constraint or index name (ChooseRelationName without the collision counter)."""
    parts = [table, *columns] if columns else [table]
    return "_".join([*parts, suffix]).encode()[:MAX_IDENT].decode(errors="ignore")


class _ColumnRefs(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_ColumnRef(self, ancestors: Any, node: ast.ColumnRef) -> None:
        last = node.fields[-1]
        if isinstance(last, ast.String):
            self.names.append(last.sval)


def column_refs(node: Any) -> list[str]:
    """The column names an expression mentions, in order."""
    visitor = _ColumnRefs()
    visitor(node)
    return visitor.names


class _FuncNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        self.names.append(".".join(n.sval for n in node.funcname))


def function_names(node: Any) -> list[str]:
    visitor = _FuncNames()
    visitor(node)
    return visitor.names


# functions PostgreSQL marks STABLE or IMMUTABLE that defaults commonly use: a default calling only these
# (or none) is stored once in the catalog (PG >= 11) instead of rewriting the table
_NOT_VOLATILE = {"now", "lower", "upper", "length", "concat", "to_char", "to_timestamp", "jsonb_build_object"}
_NOT_VOLATILE |= {"json_build_object", "array_length", "abs", "round", "trim", "btrim", "make_interval"}


def is_volatile(expression: Any) -> bool:
    """Whether a default must be evaluated per row. Unknown functions count as volatile (no database to ask)."""
    return any(name.split(".")[-1].lower() not in _NOT_VOLATILE for name in function_names(expression))
