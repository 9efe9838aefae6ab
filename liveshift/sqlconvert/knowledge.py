"""What lint knows about the schema a migration file runs against: learned from the file's own statements
(tables it creates, columns, partitions, domains, foreign keys, validated NOT NULL checks) and, with
`liveshift lint --dsn`, read from the live catalog first.

Lint's verdicts that depend on the catalog (is this type change binary coercible? does the parent have a
DEFAULT partition? which tables use this domain?) ask here; when nothing is known they fall back to an
assumption that the report states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import ConstrType, NullTestType
from pglast.visitors import Visitor

from liveshift.expressions.casts import normal_type
from liveshift.sqlconvert.sqltext import deparse


@dataclass(frozen=True)
class Bound:
    """A partition's bound in its parent, as written: a RANGE's FROM and TO (None: MINVALUE, MAXVALUE), a
    LIST's values (None: NULL), or DEFAULT; `known` is False when a datum is an expression lint cannot read."""

    kind: str  # 'r' range, 'l' list, 'h' hash, 'd' the DEFAULT partition
    low: str | None = None
    high: str | None = None
    values: frozenset[str | None] = frozenset()
    known: bool = True


@dataclass
class Table:
    columns: dict[str, str] = field(default_factory=dict)  # column -> type as written (or format_type)
    not_null: set[str] = field(default_factory=set)  # columns NOT NULL, or proven by a validated CHECK
    new: bool = False  # created by this file: empty, nobody's traffic yet
    empty: bool = False  # the live table has no pages
    rows: float | None = None  # the live row estimate
    parent: str | None = None  # partitioned parent
    partitioned: bool = False  # PARTITION BY: a parent, holding no rows itself
    default_partition: str | None = None  # of a partitioned table
    partition_key: str | None = None  # of a partitioned table, when its key is one plain column
    strategy: str = ""  # of a partitioned table: 'r' range, 'l' list, 'h' hash
    bound: Bound | None = None  # of a partition: its bound in its parent
    references: set[str] = field(default_factory=set)  # tables its foreign keys reference
    key_links: set[tuple[str, str, str]] = field(default_factory=set)  # (column, referenced table, its column)
    foreign_keys: dict[str, str] = field(default_factory=dict)  # its foreign key constraints -> the table referenced
    on_delete: dict[str, str] = field(default_factory=dict)  # a foreign key -> its ON DELETE action ('c' CASCADE…)
    checks: dict[str, frozenset[str]] = field(default_factory=dict)  # validated CHECK -> the constants it names
    sequences: dict[str, str] = field(default_factory=dict)  # column -> the sequence its default draws from
    identity: set[str] = field(default_factory=set)  # identity columns (their sequence is not a default's)
    owned: set[str] = field(default_factory=set)  # serial and identity sequences: dropped with their column
    matview: bool = False  # a materialized view: no writes to block (SHARE holds back only a REFRESH)


@dataclass
class Knowledge:
    live: bool = False  # the whole catalog is known: read from a live one (--dsn) or a schema file (--schema)
    utc: bool | None = None  # the server's TimeZone is UTC (timestamp -> timestamptz needs no rewrite)
    version: int | None = None  # the server's major version (--dsn); unknown, the newest lint knows (18)
    tables: dict[str, Table] = field(default_factory=dict)
    domains: dict[str, set[str]] = field(default_factory=dict)  # domain -> tables with a column of it
    constrained: set[str] = field(default_factory=set)  # domains with a CHECK or NOT NULL
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # index -> (table, columns)
    schemas: dict[str, set[str]] = field(default_factory=dict)  # schema -> its tables
    pending_checks: dict[str, tuple[str, str]] = field(default_factory=dict)  # NOT VALID `col IS NOT NULL`
    pending_bounds: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # NOT VALID CHECKs
    reads: dict[str, set[str]] = field(default_factory=dict)  # view or materialized view -> tables it reads
    named: set[str] = field(default_factory=set)  # every relation the file names, in any statement (conventions)
    table_objects: set[tuple[str, str]] = field(default_factory=set)  # (table, trigger, policy or rule name)

    def table(self, name: str) -> Table | None:
        return self.tables.get(_key(name))

    def since(self, major: int) -> bool:
        """Whether the server is PostgreSQL `major` or newer: what it is with --dsn, else the newest lint knows
        (18). Where 15 and 18 differ, 16 and 17 are read as 15 (measured on 15 and 18 only)."""
        return (self.version or 18) >= major

    def is_new(self, name: str) -> bool:
        table = self.table(name)
        return table is not None and (table.new or table.empty)

    def column_type(self, table: str, column: str) -> str | None:
        known = self.table(table)
        return known.columns.get(column) if known else None

    def dependents(self, name: str) -> list[str]:
        """Views and materialized views reading `name` (DROP … CASCADE drops them too)."""
        return sorted(view for view, tables in self.reads.items() if _key(name) in tables)

    def linked_by_key(self, name: str, column: str) -> list[str]:
        """The tables a foreign key links to `name`.`column`: those referencing it, and those it references."""
        key = _key(name)
        info = self.tables.get(key)
        out = {t for t, i in self.tables.items() if any(r == key and c == column for _, r, c in i.key_links)}
        out |= {r for c, r, _ in (info.key_links if info else ()) if c == column}
        return sorted(out - {key})

    def deleting_from(self, name: str) -> dict[str, str]:
        """The tables a DELETE from `name` reaches through foreign keys, and the lock each takes: ROW SHARE where
        the key is checked (NO ACTION, RESTRICT: its rows are locked FOR KEY SHARE), ROW EXCLUSIVE where rows are
        deleted (CASCADE, reaching further) or updated (SET NULL, SET DEFAULT)."""
        out: dict[str, str] = {}
        pending = [_key(name)]
        while pending:
            target = pending.pop()
            for table, info in self.tables.items():
                for fk, referenced in info.foreign_keys.items():
                    if referenced != target or table == target:
                        continue
                    action = info.on_delete.get(fk, "a")
                    mode = "ROW EXCLUSIVE" if action in "cnd" else "ROW SHARE"
                    if action == "c" and table not in out and table != _key(name):
                        pending.append(table)
                    if out.get(table) != "ROW EXCLUSIVE":
                        out[table] = mode
        out.pop(_key(name), None)
        return out

    def referencing(self, name: str) -> list[str]:
        return sorted(t for t, info in self.tables.items() if _key(name) in info.references and t != _key(name))

    def holding(self, name: str) -> list[str]:
        """The relations that hold `name`'s rows: itself, or a partitioned table's leaf partitions (what a
        domain's new constraint checks, and locks: the partitioned table itself has no storage)."""
        info = self.table(name)
        if info is None or not info.partitioned:
            return [name]
        return [leaf for t, part in self.tables.items() if part.parent == _key(name) for leaf in self.holding(t)]


def _key(name: str) -> str:
    """Tables are known by their unqualified name (a file rarely uses two schemas' tables of one name)."""
    return name.split(".")[-1]


_TEXTLIKE = {"varchar", "text"}


def binary_coercible(old: str, new: str, utc: bool | None) -> bool:
    """Whether PostgreSQL changes `old` to `new` in the catalog only (no rewrite, no scan)."""
    (ob, om), (nb, nm) = normal_type(old), normal_type(new)
    if (ob, om) == (nb, nm):
        return True
    if ob in _TEXTLIKE and nb in _TEXTLIKE:  # text/varchar to text, unbounded or wider varchar
        return not nm or (nb == "varchar" and ob == "varchar" and bool(om) and nm[0] >= om[0])
    if ob == nb and ob in ("numeric", "varbit", "bit varying"):  # wider precision, same scale
        return not nm or (bool(om) and nm[0] >= om[0] and nm[1:] == om[1:])
    if ob in _DATETIME and nb in _DATETIME:
        return _datetime_coercible(ob, om, nb, nm, utc)
    return (ob, nb) == ("cidr", "inet")


_DATETIME = {"timestamp", "timestamptz", "time", "timetz"}


def _datetime_coercible(ob: str, om: tuple[int, ...], nb: str, nm: tuple[int, ...], utc: bool | None) -> bool:
    """A precision of 6 (the most) or none keeps every value; a wider one keeps a column's own type's values.
    timestamp and timestamptz convert into each other in the catalog only on a UTC server (unknown without --dsn:
    assumed UTC, as the report says), but a precision below 6 then rounds every value: a rewrite (measured)."""
    keeps = not nm or nm[0] >= 6
    if ob == nb:
        return keeps or (bool(om) and nm[0] >= om[0])
    return {ob, nb} == {"timestamp", "timestamptz"} and utc is not False and keeps


def coercible_guess(new: str, cast: bool = False) -> tuple[bool, str]:
    """Without the old type: whether a change to `new` (without USING, or `cast`: with a USING that only casts
    the column to `new`) is binary coercible, and what that assumes. A change to text, varchar or numeric is
    most often a widening; but no numeric change needs a cast, and Django writes `USING col::type` only where
    the base type changes (FloatField to DecimalField), so a cast to numeric most often converts another type.
    Without USING only cidr converts to inet (the one assignment cast), and timestamptz most often comes from
    timestamp, which a UTC server changes in the catalog only; any other change most often converts
    (rewrites)."""
    base, mods = normal_type(new)
    if cast and base == "numeric":
        return False, "of another type (a cast to numeric: no numeric change needs one)"
    if base in _TEXTLIKE or base in ("numeric", "varbit"):
        return True, "a narrower varchar, text or numeric (binary coercible)"
    if base == "inet":
        return True, "cidr (the one type converting to inet without USING: binary coercible)"
    if base == "timestamptz" and not _datetime_coercible("timestamp", (), base, mods, None):
        return False, "timestamp (a precision below 6 rounds every value: a rewrite)"
    if base == "timestamptz":
        return True, "timestamp on a server whose TimeZone is UTC (binary coercible)"
    return False, "of a type it converts"


# the built-in types a column is commonly declared with: any other name may be a domain (or enum, composite)
BUILTIN = {"int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar", "bool", "date"}
BUILTIN |= {"time", "timetz", "timestamp", "timestamptz", "interval", "uuid", "json", "jsonb", "bytea", "inet"}
BUILTIN |= {"cidr", "macaddr", "money", "xml", "tsvector", "oid", "bit", "varbit", "citext", "point"}


def may_be_constrained_domain(k: Knowledge, written: str) -> bool | None:
    """Whether a new column of type `written` must be checked against a domain's constraints (a rewrite):
    None when lint cannot tell (a type neither built in, created by the file, nor read with --dsn)."""
    base, _ = normal_type(written)
    name = written.split("(")[0].split(".")[-1].strip().strip('"')
    if name in k.constrained:
        return True
    if base.rstrip("[]") in BUILTIN or "serial" in base or name in k.domains or k.live:
        return False
    return None


def learn_create(k: Knowledge, node: ast.CreateStmt) -> None:
    name = node.relation.relname
    table = k.tables.setdefault(name, Table())
    table.new = True
    table.partitioned = node.partspec is not None
    if node.partspec is not None:
        learn_partition_key(table, node.partspec)
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            learn_column(k, name, elt)
        elif isinstance(elt, ast.Constraint):
            learn_constraint(k, name, elt)
    if node.partbound is not None and node.inhRelations:
        parent = node.inhRelations[0].relname
        table.parent = parent
        table.bound = bound_of(node.partbound)
        if node.partbound.is_default:
            k.tables.setdefault(parent, Table()).default_partition = name
    if node.relation.schemaname:
        k.schemas.setdefault(node.relation.schemaname, set()).add(name)


def learn_partition_key(table: Table, spec: ast.PartitionSpec) -> None:
    """A partitioned table's strategy, and its key column when the key is one plain column (pruning reads only
    such keys)."""
    table.strategy = str(spec.strategy.value if hasattr(spec.strategy, "value") else spec.strategy)
    params = spec.partParams or ()
    table.partition_key = params[0].name if len(params) == 1 and params[0].name else None


def bound_of(spec: ast.PartitionBoundSpec) -> Bound:
    """A partition's bound from its FOR VALUES (or DEFAULT)."""
    if spec.is_default:
        return Bound("d")
    if spec.strategy == "h":
        return Bound("h")
    if spec.strategy == "l":
        values = [_datum(d) for d in spec.listdatums or ()]
        return Bound("l", values=frozenset(v for v, _ in values), known=all(ok for _, ok in values))
    (low, low_ok), (high, high_ok) = (
        _datum(datums[0]) if len(datums or ()) == 1 else (None, False)
        for datums in (spec.lowerdatums, spec.upperdatums)
    )
    return Bound("r", low=low, high=high, known=low_ok and high_ok)


def datum(node: Any) -> str | None:
    """A constant's text as written ('2026-09-01', 5; a cast's operand), None for NULL or anything else."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    return next((str(getattr(value, a)) for a in ("sval", "ival", "fval", "boolval") if hasattr(value, a)), None)


def _datum(node: Any) -> tuple[str | None, bool]:
    """A bound's datum, and whether lint read it: NULL (a list's), MINVALUE and MAXVALUE read as None."""
    if isinstance(node, ast.ColumnRef) and node.fields[-1].sval in ("minvalue", "maxvalue"):
        return None, True
    if isinstance(node, ast.A_Const) and node.isnull:
        return None, True
    value = datum(node)
    return value, value is not None


def learn_column(k: Knowledge, table: str, col: ast.ColumnDef) -> None:
    info = k.tables.setdefault(table, Table())
    info.columns[col.colname] = deparse(col.typeName)
    domain = col.typeName.names[-1].sval
    if domain in k.domains:
        k.domains[domain].add(table)
    kinds = {c.contype for c in col.constraints or ()}
    serial = "serial" in domain.lower()  # serial, bigserial, smallserial: NOT NULL, as identity columns are
    if (
        serial
        or col.is_not_null
        or kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_IDENTITY}
    ):
        info.not_null.add(col.colname)
    sequence = _sequence_of(table, col, serial or ConstrType.CONSTR_IDENTITY in kinds)
    if sequence:
        info.sequences[col.colname] = sequence
    if sequence and (serial or ConstrType.CONSTR_IDENTITY in kinds):
        info.owned.add(sequence)
        k.tables.setdefault(sequence, Table(new=True))  # made by this statement: nobody's traffic yet
    if ConstrType.CONSTR_IDENTITY in kinds:
        info.identity.add(col.colname)
    for c in col.constraints or ():
        if c.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            learn_constraint(k, table, c, col.colname)


def serial_sequence(table: str, column: str) -> str:
    """PostgreSQL's name for the sequence of a serial or identity column: `<table>_<column>_seq` (the table's
    schema aside)."""
    return f"{_key(table)}_{column}_seq"


def _sequence_of(table: str, col: ast.ColumnDef, owned: bool) -> str | None:
    """The sequence a column's default draws from: PostgreSQL's `table_column_seq` for serial and identity
    columns, the one named by `DEFAULT nextval('…')`."""
    if owned:
        return serial_sequence(table, col.colname)
    for c in col.constraints or ():
        call = c.raw_expr if c.contype == ConstrType.CONSTR_DEFAULT else None
        if isinstance(call, ast.FuncCall) and call.funcname[-1].sval == "nextval" and call.args:
            name = call.args[0].arg if isinstance(call.args[0], ast.TypeCast) else call.args[0]
            if isinstance(name, ast.A_Const) and isinstance(name.val, ast.String):
                return name.val.sval.split(".")[-1]
    return None


def learn_constraint(k: Knowledge, table: str, c: ast.Constraint, column: str | None = None) -> None:
    """`column`: the column a constraint is declared on (REFERENCES in a column definition)."""
    info = k.tables.setdefault(table, Table())
    if c.contype == ConstrType.CONSTR_FOREIGN:
        info.references.add(c.pktable.relname)
        columns = [column] if column else [a.sval for a in c.fk_attrs or ()]
        # no referenced columns named: the referenced table's primary key, `id` by convention where unknown
        pk = k.indexes.get(f"{c.pktable.relname}_pkey", (c.pktable.relname, ("id",)))[1]
        referenced = [a.sval for a in c.pk_attrs or ()] or list(pk)
        info.key_links |= set(zip(columns, [c.pktable.relname] * len(columns), referenced, strict=False))
        # unnamed, PostgreSQL names it table_col_fkey (a later DROP CONSTRAINT uses that name)
        name = c.conname or "_".join([table, *columns, "fkey"])
        info.foreign_keys[name], info.on_delete[name] = c.pktable.relname, c.fk_del_action or "a"
    elif c.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
        keys = [column] if column else [key.sval for key in c.keys or ()]
        if c.contype == ConstrType.CONSTR_PRIMARY:
            info.not_null.update(keys)
        # its index, by PostgreSQL's name for it unless named (UPDATE … WHERE key = … finds rows through it)
        suffix = [table, "pkey"] if c.contype == ConstrType.CONSTR_PRIMARY else [table, *keys, "key"]
        k.indexes.setdefault(c.conname or "_".join(suffix), (table, tuple(keys)))
    elif c.contype == ConstrType.CONSTR_CHECK:
        name = c.conname or f"{table}_check"
        if c.skip_validation:  # proves nothing (an ATTACH's bound, a NOT NULL) until validated
            k.pending_bounds[name] = (table, constants(c.raw_expr))
        else:
            info.checks[name] = constants(c.raw_expr)
        column = _is_not_null_check(c.raw_expr)
        if column and c.skip_validation and c.conname:
            k.pending_checks[c.conname] = (table, column)
        elif column:
            info.not_null.add(column)


def learn_validated(k: Knowledge, constraint: str) -> None:
    if constraint in k.pending_bounds:
        table, values = k.pending_bounds.pop(constraint)
        k.tables.setdefault(table, Table()).checks[constraint] = values
    if constraint in k.pending_checks:
        table, column = k.pending_checks.pop(constraint)
        k.tables.setdefault(table, Table()).not_null.add(column)


def _is_not_null_check(expr: object) -> str | None:
    """`col IS NOT NULL`: the column a validated CHECK proves NOT NULL (SET NOT NULL then skips its scan)."""
    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        return expr.arg.fields[-1].sval
    return None


class _Constants(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def visit_A_Const(self, ancestors: Any, node: ast.A_Const) -> None:
        value = node.val
        for attr in ("sval", "ival", "fval", "boolval", "bsval"):
            if hasattr(value, attr):
                self.values.add(str(getattr(value, attr)))


def constants(expr: Any) -> frozenset[str]:
    """The constants an expression or partition bound names, as written ('2027-01-01', 5, 'sms')."""
    visitor = _Constants()
    visitor(expr)
    return frozenset(visitor.values)


_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


class _Relations(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.written: set[str] = set()  # targets of INSERT/UPDATE/DELETE/MERGE inside (a WITH's data-modifying query)
        self.ctes: set[str] = set()

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        if isinstance(ancestors.node, ast.IntoClause):  # SELECT … INTO creates it
            return
        self.names.add(node.relname)
        if ancestors.member == "relation" and isinstance(ancestors.node, _WRITES):
            self.written.add(node.relname)

    def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
        self.ctes.add(node.ctename)


def relations_used(query: Any) -> tuple[set[str], set[str]]:
    """The relations a query names, and those it writes (a data-modifying WITH), its WITH's names left out."""
    visitor = _Relations()
    visitor(query)
    return visitor.names - visitor.ctes, visitor.written - visitor.ctes


def relations_read(query: Any) -> set[str]:
    """The relations a query names (a view's or CREATE TABLE AS's sources: ACCESS SHARE on each)."""
    return relations_used(query)[0]


class _SequenceCalls(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_FuncCall(self, ancestors: Any, node: ast.FuncCall) -> None:
        if node.funcname[-1].sval not in ("nextval", "currval", "setval") or not node.args:
            return
        arg = node.args[0].arg if isinstance(node.args[0], ast.TypeCast) else node.args[0]
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            self.names.add(arg.val.sval.split(".")[-1])
        elif name := _serial_sequence(arg):
            self.names.add(name)


def _serial_sequence(call: Any) -> str | None:
    """`pg_get_serial_sequence('orders', 'id')` (the usual setval after a bulk insert with explicit keys): the
    sequence PostgreSQL names for a serial or identity column, `orders_id_seq`."""
    if not isinstance(call, ast.FuncCall) or call.funcname[-1].sval != "pg_get_serial_sequence":
        return None
    args = [a.val.sval for a in call.args or () if isinstance(a, ast.A_Const) and isinstance(a.val, ast.String)]
    if len(args) != 2:
        return None
    return serial_sequence(args[0].split(".")[-1].strip('"'), args[1])


def sequences_called(node: Any) -> set[str]:
    """The sequences an expression or query calls nextval, currval or setval on (ROW EXCLUSIVE on each)."""
    visitor = _SequenceCalls()
    visitor(node)
    return visitor.names
