"""CREATE TABLE, CREATE/DROP INDEX, DROP TABLE and RENAME as liveshift operations."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import ConstrType, DropBehavior, ObjectType, SortByDir, SortByNulls

from liveshift.sqlconvert.columns import column_mapping, known
from liveshift.sqlconvert.draft import Draft, State, Unsupported
from liveshift.sqlconvert.sqltext import column_refs, deparse, pg_name

METHODS = {"btree", "hash", "gin", "gist", "brin"}


def _plain_table(node: ast.CreateStmt) -> None:
    if node.inhRelations or node.partspec or node.partbound or node.ofTypename or node.options:
        raise Unsupported("inheritance, partitioning, a type or storage options")
    if node.relation.relpersistence != "p" or node.tablespacename or node.accessMethod or node.if_not_exists:
        raise Unsupported("a temporary or unlogged table, a tablespace, an access method or IF NOT EXISTS")


def _table_constraint(table: str, c: ast.Constraint, columns: dict[str, dict[str, Any]], op: dict[str, Any]) -> None:
    """A table-level constraint liveshift can write on the column itself (under PostgreSQL's default name)."""
    keys = [k.sval for k in c.keys or ()]
    if c.contype == ConstrType.CONSTR_PRIMARY and c.conname in (None, f"{table}_pkey") and not c.including:
        op["primary_key"] = keys
        return
    single = keys[0] if len(keys) == 1 else None
    if c.contype == ConstrType.CONSTR_UNIQUE and single and c.conname in (None, pg_name(table, keys, "key")):
        columns[single]["unique"] = True
        return
    raise Unsupported(f"the table constraint {c.conname or c.contype.name.removeprefix('CONSTR_')}")


def create_table(node: ast.CreateStmt, draft: Draft, state: State) -> None:
    _plain_table(node)
    table = node.relation.relname
    columns: dict[str, dict[str, Any]] = {}
    op: dict[str, Any] = {"op": "create_table", "table": table}
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            columns[element.colname] = column_mapping(table, element)
        elif isinstance(element, ast.Constraint):
            _table_constraint(table, element, columns, op)
        else:
            raise Unsupported("LIKE in CREATE TABLE")
    if not columns:
        raise Unsupported("a table without columns")
    op["columns"] = list(columns.values())
    draft.op = {k: op[k] for k in ("op", "table", "columns", "primary_key") if k in op}
    state.known.tables[table] = {name: known(mapping) for name, mapping in columns.items()}


def _index_columns(node: ast.IndexStmt) -> list[str]:
    columns = []
    for element in node.indexParams:
        plain = (
            element.ordering == SortByDir.SORTBY_DEFAULT and element.nulls_ordering == SortByNulls.SORTBY_NULLS_DEFAULT
        )
        if element.name is None or not plain or element.opclass or element.collation:
            raise Unsupported("an index on an expression, with an operator class, collation or ordering")
        columns.append(element.name)
    return columns


def create_index(node: ast.IndexStmt, draft: Draft, state: State) -> None:
    if node.indexIncludingParams or node.nulls_not_distinct or node.options or node.tableSpace:
        raise Unsupported("INCLUDE, NULLS NOT DISTINCT, storage options or a tablespace")
    if node.accessMethod not in METHODS:
        raise Unsupported(f"the index method {node.accessMethod}")
    columns = _index_columns(node)
    table = node.relation.relname
    op: dict[str, Any] = {"op": "create_index", "name": node.idxname or pg_name(table, columns, "idx")}
    op |= {"table": table, "columns": columns}
    if node.unique:
        op["unique"] = True
    if node.accessMethod != "btree":
        op["method"] = node.accessMethod
    if node.whereClause is not None:
        op["where"] = deparse(node.whereClause)
        state.needs_next_migration(draft, table, column_refs(node.whereClause), "where")
    draft.op = op
    if node.if_not_exists:
        draft.notes.append("IF NOT EXISTS dropped: liveshift plan refuses the migration when the name is taken")
    if not node.concurrent:
        draft.notes.append("built CONCURRENTLY by liveshift (the SQL blocks writes while it builds)")


def drop(node: ast.DropStmt, line: int, source: str, state: State) -> None:
    if node.behavior == DropBehavior.DROP_CASCADE:
        raise Unsupported("DROP … CASCADE")
    kinds = {ObjectType.OBJECT_TABLE: ("drop_table", "table"), ObjectType.OBJECT_INDEX: ("drop_index", "name")}
    if node.removeType not in kinds:
        raise Unsupported(f"DROP {node.removeType.name.removeprefix('OBJECT_')}")
    op, key = kinds[node.removeType]
    for obj in node.objects:
        if len(obj) != 1:
            raise Unsupported("a schema-qualified name in DROP")
        draft = Draft({"op": op, key: obj[0].sval}, line, source)
        if node.missing_ok:
            draft.notes.append("IF EXISTS dropped: liveshift plan refuses the migration when it does not exist")
        state.drafts.append(draft)
        state.known.tables.pop(obj[0].sval, None)


def rename(node: ast.RenameStmt, draft: Draft, state: State) -> None:
    table = node.relation.relname if node.relation else None
    if node.missing_ok or table is None:
        raise Unsupported("RENAME … IF EXISTS")
    if node.renameType == ObjectType.OBJECT_COLUMN:
        draft.op = {"op": "rename_column", "table": table, "column": node.subname, "to": node.newname}
        state.introduced.add((table, node.newname))
        columns = state.known.tables.get(table, {})
        if node.subname in columns:
            columns[node.newname] = columns.pop(node.subname)
    elif node.renameType == ObjectType.OBJECT_TABCONSTRAINT:
        draft.op = {"op": "rename_constraint", "table": table, "name": node.subname, "to": node.newname}
    elif node.renameType == ObjectType.OBJECT_TABLE:
        draft.op = {"op": "rename_table", "table": table, "to": node.newname}
        if table in state.known.tables:
            state.known.tables[node.newname] = state.known.tables.pop(table)
    else:
        raise Unsupported(f"RENAME of a {node.renameType.name.removeprefix('OBJECT_').lower()}")
