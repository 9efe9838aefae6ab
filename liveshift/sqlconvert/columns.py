"""A CREATE TABLE / ADD COLUMN column definition as liveshift's `column` mapping (operations/columns.py)."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import ConstrType

from liveshift.sqlconvert.draft import KnownColumn, Unsupported
from liveshift.sqlconvert.sqltext import deparse, pg_name, type_name

ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

# a value of each common type to propose where the SQL gives none (marked for review, never used silently)
_CANDIDATES = {
    "smallint": "0", "integer": "0", "bigint": "0", "int": "0", "int2": "0", "int4": "0", "int8": "0",
    "numeric": "0", "decimal": "0", "real": "0", "double precision": "0", "float": "0", "float8": "0",
    "text": "''", "varchar": "''", "character varying": "''", "char": "''", "character": "''", "bpchar": "''",
    "boolean": "false", "bool": "false", "jsonb": "'{}'", "json": "'{}'",
    "date": "current_date", "timestamp": "now()", "timestamptz": "now()",
    "timestamp with time zone": "now()", "timestamp without time zone": "now()",
}  # fmt: skip


def candidate_value(type_text: str) -> str | None:
    base = type_text.split("(")[0].strip().lower()
    return None if base.endswith("]") else _CANDIDATES.get(base)


def check_supported_fk(c: ast.Constraint) -> None:
    if c.fk_upd_action not in ("a", "\x00", None):
        raise Unsupported("ON UPDATE of a foreign key")
    if c.fk_matchtype not in ("s", "\x00", None):
        raise Unsupported("MATCH FULL of a foreign key")
    if c.deferrable or c.initdeferred:
        raise Unsupported("a DEFERRABLE constraint")
    if not c.pk_attrs:
        raise Unsupported("a foreign key without its referenced columns (liveshift names them)")


def _references(c: ast.Constraint) -> dict[str, Any]:
    check_supported_fk(c)
    if c.pktable.schemaname:
        raise Unsupported("a foreign key to a table in another schema")
    if len(c.pk_attrs) != 1:
        raise Unsupported("a foreign key over several columns declared on a column")
    return {"table": c.pktable.relname, "column": c.pk_attrs[0].sval, "on_delete": ON_DELETE[c.fk_del_action or "a"]}


def _expect_name(c: ast.Constraint, default: str) -> None:
    if c.conname and c.conname != default:
        raise Unsupported(f"a constraint named {c.conname!r} (liveshift names it {default!r})")


# an identity's sequence options, as IdentityDef (operations/columns.py) names them
_SEQUENCE_OPTIONS = {
    "start": "start",
    "increment": "increment",
    "minvalue": "min_value",
    "maxvalue": "max_value",
    "cache": "cache",
    "cycle": "cycle",
}


def _option_value(arg: Any) -> int | bool:
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    if isinstance(arg, ast.Float):  # past 32 bits the parser keeps the number as text
        return int(arg.fval)
    return int(arg.ival)


def identity_mapping(c: ast.Constraint) -> str | dict[str, Any]:
    """`GENERATED … AS IDENTITY [(options)]` as the `identity` field: a word, or a mapping with options."""
    out: dict[str, Any] = {"generated": "always" if c.generated_when == "a" else "by_default"}
    for option in c.options or ():
        key = _SEQUENCE_OPTIONS.get(option.defname)
        if key is None:
            raise Unsupported(f"the identity sequence option {option.defname.upper()}")
        if option.arg is None:  # NO MINVALUE, NO MAXVALUE: the default
            continue
        value = _option_value(option.arg)
        if value is not False:
            out[key] = value
    return out["generated"] if len(out) == 1 else out


def _generated_mapping(c: ast.Constraint) -> str | dict[str, Any]:
    expression = deparse(c.raw_expr)
    return expression if c.generated_kind != "v" else {"expression": expression, "stored": False}


def column_mapping(table: str, col: ast.ColumnDef) -> dict[str, Any]:
    """liveshift's column fields for `col`, or Unsupported naming what liveshift cannot express."""
    set_chars = [c for c in (col.identity, col.generated, col.storage) if c not in (None, "", "\x00")]
    if col.collClause is not None or set_chars or col.fdwoptions or col.compression:
        raise Unsupported("a collation or storage clause on a column")
    out: dict[str, Any] = {"name": col.colname, "type": type_name(col.typeName)}
    for c in col.constraints or ():
        kind = c.contype
        if kind == ConstrType.CONSTR_NOTNULL:
            out["nullable"] = False
        elif kind == ConstrType.CONSTR_NULL:
            out["nullable"] = True
        elif kind == ConstrType.CONSTR_DEFAULT:
            out["default"] = deparse(c.raw_expr)
        elif kind == ConstrType.CONSTR_IDENTITY:
            out["identity"] = identity_mapping(c)
        elif kind == ConstrType.CONSTR_GENERATED:
            out["generated"] = _generated_mapping(c)
        elif kind == ConstrType.CONSTR_PRIMARY:
            _expect_name(c, f"{table}_pkey")
            out["primary_key"] = True
        elif kind == ConstrType.CONSTR_UNIQUE and not c.nulls_not_distinct:
            _expect_name(c, pg_name(table, [col.colname], "key"))
            out["unique"] = True
        elif kind == ConstrType.CONSTR_CHECK and not c.is_no_inherit and not c.skip_validation:
            _expect_name(c, pg_name(table, [col.colname], "check"))
            out["check"] = deparse(c.raw_expr)
        elif kind == ConstrType.CONSTR_FOREIGN and not c.skip_validation:
            _expect_name(c, pg_name(table, [col.colname], "fkey"))
            out["references"] = _references(c)
        else:
            raise Unsupported(f"the column constraint {kind.name.removeprefix('CONSTR_')}")
    if col.is_not_null:
        out["nullable"] = False
    if col.raw_default is not None:
        out["default"] = deparse(col.raw_default)
    return out


def known(mapping: dict[str, Any]) -> KnownColumn:
    nullable = mapping.get("nullable", True) and not mapping.get("primary_key", False) and "identity" not in mapping
    return KnownColumn(type=mapping["type"], nullable=nullable, default=mapping.get("default"))
