"""Type changes whose `up` and `down` are plain casts that lose nothing, read with PostgreSQL's own parser.

When a column's `up` is the column itself (cast or not) to a wider type of the same kind, and its `down` casts the
new column straight back, every old value maps to a new one and back to itself. Then whatever was unique over the
old column is unique over the new one, as the old column's own index already checks it for every row, blue's and
green's alike: an index built again over the new column (a unique key's, the primary key's) enforces nothing new
and may be built after the backfill, once, rather than filled from all NULL during it (backfill/rebuild.py).
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

# (old, new) base types where every old value has the same value in the new type, and back while it fits
WIDER = {
    ("int2", "int4"),
    ("int2", "int8"),
    ("int4", "int8"),
    ("int2", "numeric"),
    ("int4", "numeric"),
    ("int8", "numeric"),
    ("float4", "float8"),
    ("varchar", "text"),
    ("bpchar", "text"),
}
_BOUNDED = {"varchar", "numeric", "varbit"}  # a larger first typmod (or none) holds every value of a smaller one


def normal_type(written: str) -> tuple[str, tuple[int, ...]]:
    """A type as (PostgreSQL's internal name, typmods): `varchar(20)` and `character varying(20)` agree."""
    try:
        target = parse_sql(f"SELECT NULL::{written}")[0].stmt.targetList[0].val
    except Exception:  # a type text that cannot be read: compare it as written
        return written.lower(), ()
    name = target.typeName
    mods = tuple(m.val.ival for m in name.typmods or () if isinstance(m, ast.A_Const) and hasattr(m.val, "ival"))
    base = name.names[-1].sval.lower()
    return base + ("[]" if name.arrayBounds else ""), mods


def lossless(old: str, new: str) -> bool:
    """Whether every value of type `old` is a value of type `new` too, equal and ordered alike, and casts back."""
    (ob, om), (nb, nm) = normal_type(old), normal_type(new)
    if (ob, om) == (nb, nm):
        return True
    if (ob, nb) in WIDER:
        return not nm or nb != "numeric"  # a bounded numeric may not hold every integer
    if ob != nb or ob not in _BOUNDED:
        return False
    return not nm or (bool(om) and nm[0] >= om[0] and nm[1:] == om[1:])


def _cast_of(expression: str, column: str) -> list[str] | None:
    """The types `expression` casts `column` to, innermost first ([] for the bare column); None if it is
    anything else."""
    try:
        statements = parse_sql(f"SELECT ({expression})")
    except ParseError:
        return None
    if len(statements) != 1 or len(statements[0].stmt.targetList) != 1:
        return None
    node, types = statements[0].stmt.targetList[0].val, []
    while isinstance(node, ast.TypeCast):
        types.insert(0, RawStream()(node.typeName))
        node = node.arg
    fields = node.fields if isinstance(node, ast.ColumnRef) else ()
    if len(fields) != 1 or not isinstance(fields[0], ast.String) or fields[0].sval != column:
        return None
    return types


def _straight(casts: list[str] | None, start: str, end: str) -> bool:
    """Each cast in the chain loses nothing, from type `start`, and the chain ends at type `end`."""
    if casts is None:
        return False
    current = start
    for written in casts:
        if not lossless(current, written):
            return False
        current = written
    return normal_type(current) == normal_type(end) or lossless(current, end)


def round_trips(up: str, down: str, old: tuple[str, str], new: tuple[str, str]) -> bool:
    """Whether `up` takes the old column (name, type) to the new one without loss, and `down` only casts the new
    column back to the old type (a down that would narrow is fine: it is the same value)."""
    (old_name, old_type), (new_name, new_type) = old, new
    if not _straight(_cast_of(up, old_name), old_type, new_type) or not lossless(old_type, new_type):
        return False
    back = _cast_of(down, new_name)
    return back is not None and all(lossless(old_type, t) for t in back)
