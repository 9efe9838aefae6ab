"""INSERT, UPDATE, DELETE and SELECT in a migration: row locks on the target, ACCESS SHARE on what the query
reads, and whether the statement reads the whole table (a long statement under any lock the transaction
already holds) or finds its rows through an index."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from liveshift.sqlconvert.knowledge import datum, relations_used, sequences_called, serial_sequence
from liveshift.sqlconvert.pruning import kept, partitions_reached
from liveshift.sqlconvert.scope import Finding, Scope, rel

# the bookkeeping tables migration tools create, by their key (an UPDATE of alembic_version by version_num, as
# every Alembic migration ends, is a lookup); any other table is assumed keyed by `id`
TOOL_KEYS = {
    "alembic_version": "version_num",
    "schema_migrations": "version",
    "ar_internal_metadata": "key",
    "django_migrations": "id",
    "flyway_schema_history": "installed_rank",
    "goose_db_version": "id",
    "knex_migrations_lock": "index",
}

# the migration tools' own tables keyed by a serial or identity `id`: TypeORM's and Laravel's `migrations`, Knex's,
# goose's and Django's; a tool's INSERT recording a migration draws from its sequence
TOOL_SERIALS = {"migrations", "knex_migrations", "goose_db_version", "django_migrations"}


def select(s: Scope, query: Any, exclude: str = "", reached: dict[str, list[str]] | None = None) -> list[Finding]:
    """A query reads its relations under ACCESS SHARE (the system catalogs are nobody's traffic), a partitioned
    table's partitions that pruning keeps included (`reached`: as the statement around it found them); a
    data-modifying WITH writes its targets, and nextval/currval/setval take ROW EXCLUSIVE on their sequence."""
    if not query:
        return []
    read, written = relations_used(query)
    exclude = exclude.split(".")[-1]  # the target as a query names it
    names = tuple(sorted(n for n in read - written if not n.startswith("pg_") and n != exclude))
    reached = partitions_reached(s.k, query) if reached is None else reached
    names += tuple(part for name in names for part in reached.get(name, ()))
    # the query runs: it reads its tables (a long statement under any lock its transaction holds)
    found = [s.on("ACCESS SHARE", names, [], scans=True)] if names else []
    writes = tuple(sorted((written | sequences_called(query)) - {exclude}))
    return found + ([s.on("ROW EXCLUSIVE", writes, [])] if writes else [])


def dml(s: Scope, node: Any) -> list[Finding]:
    """ROW EXCLUSIVE on the target; UPDATE and DELETE read the table unless their WHERE pins an indexed
    column to constants (a lookup, not a scan)."""
    target = rel(node.relation)
    scans = isinstance(node, ast.UpdateStmt | ast.DeleteStmt) and not _looked_up(s, target, node.whereClause)
    scans = scans or isinstance(node, ast.MergeStmt)  # a join of the target with its source
    parts = ("withClause", "selectStmt", "fromClause", "usingClause", "whereClause", "targetList", "sourceRelation")
    parts += ("joinCondition", "mergeWhenClauses", "returningList", "onConflictClause")
    sources = tuple(part for name in parts if (part := getattr(node, name, None)))
    reached = partitions_reached(s.k, node)
    written = reached.pop(target.split(".")[-1], []) if not isinstance(node, ast.InsertStmt) else _routed(s, node)
    found = [s.on("ROW EXCLUSIVE", (target, *written), [], scans=scans)]
    found += select(s, sources, exclude=target, reached=reached)
    drawn = _sequences_drawn(s, target, node) if isinstance(node, ast.InsertStmt) else ()
    found += [s.on("ROW EXCLUSIVE", drawn, [])] if drawn else []
    checked = _keys_checked(s, target, node)
    found += [s.on("ROW SHARE", checked, [])] if checked else []
    if isinstance(node, ast.DeleteStmt):  # the foreign keys referencing the target check or follow each row
        reached = s.k.deleting_from(target)
        found += [s.on(mode, (table,), []) for table, mode in sorted(reached.items())]
        if reached:
            s.note(f"assumed the DELETE removes rows (the foreign keys referencing {target} lock their tables then)")
    return found


def _routed(s: Scope, node: ast.InsertStmt) -> list[str]:
    """The partitions an INSERT's VALUES go to, where every row gives the partition key as a constant (else
    PostgreSQL's routing, and so its locks, depend on the rows: none named)."""
    target = rel(node.relation)
    info = s.k.table(target)
    query = node.selectStmt
    if info is None or info.strategy not in ("r", "l") or not info.partition_key or not (query and query.valuesLists):
        return []
    names = _given(list(info.columns), node)
    if info.partition_key not in names:
        return []
    at = names.index(info.partition_key)
    keys = [datum(row[at]) if at < len(row) else None for row in query.valuesLists]
    if None in keys:
        return []
    return sorted({part for key in keys for part in kept(s.k, target, {info.partition_key: [("=", (str(key),))]})})


def _keys_checked(s: Scope, target: str, node: Any) -> tuple[str, ...]:
    """The tables an INSERT's or UPDATE's foreign keys check each row against (SELECT … FOR KEY SHARE: ROW SHARE
    on the referenced table), for the key columns it writes: those known (the file, --schema, --dsn), assuming
    the rows written carry a key (one left NULL or unchanged checks nothing, stated)."""
    info = s.k.table(target)
    if info is None or info.new or not info.key_links or not isinstance(node, ast.InsertStmt | ast.UpdateStmt):
        return ()
    if isinstance(node, ast.UpdateStmt):
        written = {t.name for t in node.targetList or () if not _null(t.val)}
    else:
        written = _inserted(info.columns, node)
    key = target.split(".")[-1]
    checked = tuple(sorted({table for column, table, _ in info.key_links if column in written} - {key}))
    if checked:
        s.note(f"assumed the rows written carry a key {', '.join(checked)} must hold (checked under ROW SHARE)")
    return checked


def _inserted(columns: dict[str, str], node: ast.InsertStmt) -> set[str]:
    """The columns an INSERT gives a value other than NULL (named, or positional: the table's first columns)."""
    query = node.selectStmt
    names = _given(list(columns), node)  # none for DEFAULT VALUES
    if query is not None and (query.valuesLists or query.targetList):
        rows = query.valuesLists or [[t.val for t in query.targetList]]
        return {name for row in rows for name, value in zip(names, row, strict=False) if not _null(value)}
    return set(names)  # a set operation (UNION): every column named


def _given(columns: list[str], node: ast.InsertStmt) -> list[str]:
    """The columns an INSERT gives values for: those it names, or positionally the table's first, as many as its
    query or VALUES gives (all when that is unknown); none for DEFAULT VALUES, which draws every default."""
    if node.selectStmt is None:
        return []
    if node.cols:
        return [c.name for c in node.cols]
    width = _width(node.selectStmt)
    return columns[: width if width is not None else len(columns)]


def _null(value: Any) -> bool:
    return isinstance(value, ast.A_Const) and bool(value.isnull)


def _width(query: Any) -> int | None:
    """How many columns an INSERT's query or VALUES gives."""
    if query is not None and query.valuesLists:
        return len(query.valuesLists[0])
    return len(query.targetList) if query is not None and query.targetList else None


def _sequences_drawn(s: Scope, target: str, node: ast.InsertStmt) -> tuple[str, ...]:
    """The sequences an INSERT draws from (nextval: ROW EXCLUSIVE on each): those of the target's columns it
    leaves to their defaults, where lint knows the columns (the file's CREATE TABLE, --schema, --dsn). A new
    table's sequences are new too. Unknown, an INSERT … SELECT naming its columns but not `id` is assumed to
    draw the conventional serial or identity key's (`orders_id_seq`): a data migration copies rows into an
    application's table, which has one (VALUES seed lookup tables as often, keyed by a code; the migration
    tools' own tables have none)."""
    key = target.split(".")[-1]
    info = s.k.table(target)
    if info is not None and info.new:
        return ()
    if info is None and not s.k.live and key in TOOL_SERIALS and "id" not in _given(["id"], node):
        s.note(f"assumed {key} is a migration tool's own table, keyed by a serial id drawing from {key}_id_seq")
        return (serial_sequence(key, "id"),)
    if info is None or not (s.k.live or info.sequences or "id" in info.columns):
        copies = node.selectStmt is not None and not node.selectStmt.valuesLists
        if s.k.live or not copies or not node.cols or "id" in {c.name for c in node.cols} or key in TOOL_KEYS:
            return ()
        s.note(f"assumed {key}.id is a serial or identity key drawing from {key}_id_seq; --dsn reads the defaults")
        return (serial_sequence(key, "id"),)
    given = set(_given(list(info.columns), node))
    return tuple(sorted(seq for col, seq in info.sequences.items() if col not in given))


def _pinned(where: Any) -> set[str]:
    """The columns a WHERE clause pins to constants: `col = const`, `col IN (consts)`, under AND."""
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return {c for arg in where.args for c in _pinned(arg)}
    if not isinstance(where, ast.A_Expr) or not isinstance(where.lexpr, ast.ColumnRef):
        return set()
    constant = isinstance(where.rexpr, ast.A_Const) or (
        isinstance(where.rexpr, tuple) and all(isinstance(v, ast.A_Const) for v in where.rexpr)
    )
    equality = where.name and where.name[-1].sval == "=" and where.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN)
    column = where.lexpr.fields[-1]
    return {column.sval} if constant and equality and isinstance(column, ast.String) else set()


def _looked_up(s: Scope, table: str, where: Any) -> bool:
    pinned = _pinned(where)
    if not pinned:
        return False
    key = table.split(".")[-1]
    leading = {columns[0] for t, columns in s.k.indexes.values() if t == key and columns}
    if pinned & leading:
        return True
    column = TOOL_KEYS.get(key, "id")
    if s.k.live or column not in pinned:
        return False
    s.note(f"assumed {key}.{column} is the primary key (an index lookup, not a scan); --dsn reads the indexes")
    return True
