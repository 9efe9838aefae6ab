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


# functions PostgreSQL marks STABLE or IMMUTABLE (every overload, pg_proc.provolatile on 18) that defaults
# commonly use: a default calling only these (or none) is stored once in the catalog (PG >= 11) instead of
# rewriting the table. `AT TIME ZONE` is timezone(), `EXTRACT` extract(): `(now() AT TIME ZONE 'utc')` and
# `timezone('utc', now())` are SQLAlchemy's usual server defaults.
_NOT_VOLATILE = {"now", "lower", "upper", "length", "concat", "to_char", "to_timestamp", "jsonb_build_object"}
_NOT_VOLATILE |= {"json_build_object", "array_length", "abs", "round", "trim", "btrim", "make_interval"}
_NOT_VOLATILE |= {"timezone", "extract", "date_part", "date_trunc", "date_bin", "age", "current_setting"}
_NOT_VOLATILE |= {"transaction_timestamp", "statement_timestamp", "make_date", "make_timestamp", "make_timestamptz"}
_NOT_VOLATILE |= {"to_date", "to_number", "to_json", "to_jsonb", "json_build_array", "jsonb_build_array"}
_NOT_VOLATILE |= {"concat_ws", "format", "replace", "substring", "substr", "left", "right", "lpad", "rpad"}
_NOT_VOLATILE |= {"ltrim", "rtrim", "initcap", "split_part", "regexp_replace", "md5", "sha256", "encode"}
_NOT_VOLATILE |= {"decode", "floor", "ceil", "trunc", "mod", "power", "sqrt", "array_to_string", "string_to_array"}
_NOT_VOLATILE |= {"current_database", "current_schema", "justify_interval", "jsonb_set", "array_fill"}


def is_volatile(expression: Any) -> bool:
    """Whether a default must be evaluated per row. Unknown functions count as volatile (no database to ask)."""
    return any(name.split(".")[-1].lower() not in _NOT_VOLATILE for name in function_names(expression))
