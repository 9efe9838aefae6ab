"""The partitions a query reaches, and so locks.

PostgreSQL locks a partitioned table's partitions when it plans a query that reads or writes the table, but
only those plan-time pruning keeps: a WHERE comparing the partition key with constants (`posted_at >=
'2026-11-15'`, `region IN ('de', 'fr')`) leaves out the partitions whose bounds exclude every value it allows,
and the DEFAULT partition when the other partitions' bounds cover them all. Lint reports the same: the kept
partitions (sub-partitions included), each under the lock the query takes on the table.

What lint prunes is what it can compare: a one-column RANGE or LIST key against constants that read as
numbers or ISO dates and timestamps (a LIST's strings by equality). Anything else keeps every partition, as
PostgreSQL does for what it cannot prune while planning: a HASH key (its hash is PostgreSQL's), an expression
key, a stable function (`now()`) or a parameter, an OR.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, JoinType
from pglast.visitors import Visitor

from liveshift.sqlconvert.knowledge import Bound, Knowledge, datum

# what a WHERE puts on one key column, each to hold: (operator, constants); "=" is `= c` or `IN (c, …)`
Allowed = list[tuple[str, tuple[str, ...]]]
Conditions = dict[str, Allowed]  # key column -> its conditions
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}  # `c < col` is `col > c`


def _ordinal(value: str) -> tuple[str, Any] | None:
    """A constant lint can order: a number, or a date or timestamp in ISO form (naive read as UTC)."""
    try:
        return "n", Decimal(value)
    except InvalidOperation:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return "t", moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(a: str, b: str) -> int | None:
    """The sign of a - b, None when lint cannot order the two."""
    if a == b:
        return 0
    x, y = _ordinal(a), _ordinal(b)
    if x is None or y is None or x[0] != y[0]:
        return None
    return (x[1] > y[1]) - (x[1] < y[1])


def _range_excludes(bound: Bound, op: str, value: str) -> bool:
    """Whether no value of [low, high) meets `op value` (False when undecided)."""
    low = None if bound.low is None else _compare(value, bound.low)
    high = None if bound.high is None else _compare(value, bound.high)
    if op == "=":
        return (low is not None and low < 0) or (high is not None and high >= 0)
    if op in ("<", "<="):
        return low is not None and (low < 0 or (low == 0 and op == "<"))
    return high is not None and high >= 0  # > and >=: a value above `value` below high exists unless high <= value


def _meets(value: str, op: str, constants: tuple[str, ...]) -> bool | None:
    """Whether a LIST partition's value meets a condition; strings neither a number nor a date are equal only
    as written (a text key's values, as the catalog prints them)."""
    signs = [_compare(value, c) for c in constants]
    if op == "=" and _ordinal(value) is None:
        return value in constants
    if op == "=":
        return True if 0 in signs else None if None in signs else False
    sign = signs[0]
    return None if sign is None else {"<": sign < 0, "<=": sign <= 0, ">": sign > 0, ">=": sign >= 0}[op]


def _holds(bound: Bound | None, strategy: str, allowed: Allowed) -> bool:
    """Whether a partition may hold a row meeting every condition (kept when lint cannot decide)."""
    if bound is None or not bound.known or bound.kind != strategy:
        return True
    if strategy == "r":
        return not any(all(_range_excludes(bound, op, v) for v in values) for op, values in allowed)
    verdicts = [[_meets(v, op, values) for op, values in allowed] for v in bound.values if v is not None]
    return any(False not in row for row in verdicts)


def _contains(bound: Bound, value: str | None) -> bool:
    """Whether a RANGE partition holds `value` (None: it starts at MINVALUE)."""
    if value is None:
        return bound.low is None
    low = 0 if bound.low is None else _compare(value, bound.low)
    high = -1 if bound.high is None else _compare(value, bound.high)
    return low is not None and high is not None and low >= 0 and high < 0


def _covered(parts: list[Bound], strategy: str, allowed: Allowed) -> bool:
    """Whether the partitions other than the DEFAULT hold every value the conditions allow (it is pruned)."""
    if not parts or not all(b.known and b.kind == strategy for b in parts):
        return False
    equal = next((values for op, values in allowed if op == "="), None)
    if equal is not None:
        inside = _contains if strategy == "r" else lambda b, v: v in b.values
        return all(any(inside(b, v) for b in parts) for v in equal)
    return strategy == "r" and _range_covered(parts, allowed)


def _range_covered(parts: list[Bound], allowed: Allowed) -> bool:
    """The values between the WHERE's lower and upper bounds lie in contiguous RANGE partitions."""
    lows = [values[0] for op, values in allowed if op in (">", ">=")]
    highs = [(op, values[0]) for op, values in allowed if op in ("<", "<=")]
    if len(lows) > 1 or len(highs) > 1:
        return False
    current = next((b for b in parts if _contains(b, lows[0] if lows else None)), None)
    while current is not None:
        if current.high is None:
            return True
        if highs:
            op, value = highs[0]
            sign = _compare(value, current.high)
            if sign is None:
                return False
            if sign < 0 or (sign == 0 and op == "<"):
                return True
        high = current.high
        current = next((b for b in parts if b.low is not None and _compare(b.low, high) == 0), None)
    return False


def kept(k: Knowledge, table: str, conditions: Conditions) -> list[str]:
    """The partitions (sub-partitions too) of `table` that a query with these conditions locks."""
    info = k.table(table)
    if info is None or not info.partitioned:
        return []
    key = table.split(".")[-1]
    children = sorted((name, child) for name, child in k.tables.items() if child.parent == key)
    mine = conditions.get(info.partition_key or "", []) if info.strategy in ("r", "l") else []
    others = [c.bound for _, c in children if c.bound is not None and c.bound.kind != "d"]
    out: list[str] = []
    for name, child in children:
        if child.bound is not None and child.bound.kind == "d":
            reached = not mine or not _covered(others, info.strategy, mine)
        else:
            reached = not mine or _holds(child.bound, info.strategy, mine)
        if reached:
            out += [name, *kept(k, name, conditions)]
    return out


def _conjuncts(where: Any) -> list[Any]:
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return [c for arg in where.args for c in _conjuncts(arg)]
    return [] if where is None else [where]


def _column(node: Any, names: set[str]) -> str | None:
    """The column a reference names, when unqualified or qualified by the table's name or alias."""
    if not isinstance(node, ast.ColumnRef) or not all(isinstance(f, ast.String) for f in node.fields):
        return None
    fields = [f.sval for f in node.fields]
    return fields[-1] if len(fields) == 1 or fields[-2] in names else None


def _conditions_of(expr: Any, names: set[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(column, operator, constants) from `col op c` (either side), `col IN (c, …)`, `col BETWEEN a AND b`."""
    if not isinstance(expr, ast.A_Expr) or not expr.name:
        return []
    op = expr.name[-1].sval
    if expr.kind == A_Expr_Kind.AEXPR_OP and op in _FLIPPED:
        for column_side, value_side, operator in ((expr.lexpr, expr.rexpr, op), (expr.rexpr, expr.lexpr, _FLIPPED[op])):
            column, value = _column(column_side, names), datum(value_side)
            if column and value is not None:
                return [(column, operator, (value,))]
    column = _column(expr.lexpr, names)
    values = [datum(v) for v in expr.rexpr or ()] if isinstance(expr.rexpr, tuple | list) else []
    if column is None or not values or None in values:
        return []
    if expr.kind == A_Expr_Kind.AEXPR_IN and op == "=":
        return [(column, "=", tuple(v for v in values if v is not None))]
    if expr.kind == A_Expr_Kind.AEXPR_BETWEEN and len(values) == 2:
        return [(column, ">=", (values[0],)), (column, "<=", (values[1],))]  # type: ignore[list-item]
    return []


def conditions(wheres: list[Any], names: set[str]) -> Conditions:
    """What the conjuncts of these WHERE clauses put on the columns of the table known by `names`."""
    out: Conditions = {}
    for where in wheres:
        for conjunct in _conjuncts(where):
            for column, op, values in _conditions_of(conjunct, names):
                out.setdefault(column, []).append((op, values))
    return out


class _Blocks(Visitor):
    """Each query block's relations (FROM, an UPDATE's or DELETE's target and FROM/USING) with its WHERE and
    inner joins' conditions."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[list[ast.RangeVar], list[Any]]] = []

    def _add(self, relations: list[ast.RangeVar], items: Any, where: Any) -> None:
        quals: list[Any] = []
        for item in items or ():
            _from_item(item, relations, quals)
        self.blocks.append((relations, [where, *quals]))

    def visit_SelectStmt(self, ancestors: Any, node: ast.SelectStmt) -> None:
        self._add([], node.fromClause, node.whereClause)

    def visit_UpdateStmt(self, ancestors: Any, node: ast.UpdateStmt) -> None:
        self._add([node.relation], node.fromClause, node.whereClause)

    def visit_DeleteStmt(self, ancestors: Any, node: ast.DeleteStmt) -> None:
        self._add([node.relation], node.usingClause, node.whereClause)


def _from_item(item: Any, relations: list[ast.RangeVar], quals: list[Any]) -> None:
    if isinstance(item, ast.RangeVar):
        relations.append(item)
    elif isinstance(item, ast.JoinExpr):
        _from_item(item.larg, relations, quals)
        _from_item(item.rarg, relations, quals)
        if item.jointype == JoinType.JOIN_INNER and item.quals is not None:
            quals.append(item.quals)


def partitions_reached(k: Knowledge, node: Any) -> dict[str, list[str]]:
    """Each partitioned table a statement reads or writes (not under ONLY) -> the partitions its query blocks
    lock, over every place it appears."""
    visitor = _Blocks()
    visitor(node)
    out: dict[str, set[str]] = {}
    for relations, wheres in visitor.blocks:
        for relation in relations:
            info = k.table(relation.relname)
            if info is None or not info.partitioned or not relation.inh:
                continue
            names = {relation.relname, *([relation.alias.aliasname] if relation.alias else [])}
            out.setdefault(relation.relname, set()).update(kept(k, relation.relname, conditions(wheres, names)))
    return {table: sorted(parts) for table, parts in out.items()}
