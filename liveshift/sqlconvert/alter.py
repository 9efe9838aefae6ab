"""ALTER TABLE as liveshift operations, one per sub-command (ALTER COLUMN sub-commands on one column merge)."""

from __future__ import annotations

from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior

from liveshift.sqlconvert.columns import (
    ON_DELETE,
    candidate_value,
    column_mapping,
    identity_mapping,
    known,
)
from liveshift.sqlconvert.draft import Draft, Known, State, Unsupported
from liveshift.sqlconvert.sqltext import column_refs, deparse, pg_name, type_name


def _add_column(table: str, col: ast.ColumnDef, draft: Draft, shape: Known) -> None:
    mapping = column_mapping(table, col)
    draft.op = {"op": "add_column", "table": table, "column": mapping}
    if mapping.get("primary_key"):
        raise Unsupported("ADD COLUMN … PRIMARY KEY (add_column cannot add a primary key)")
    generated = mapping.get("generated")
    if generated is not None and not isinstance(generated, dict):
        raise Unsupported("ADD COLUMN … GENERATED … STORED (PostgreSQL adds it by rewriting the table; VIRTUAL is not)")
    filled = any(k in mapping for k in ("default", "identity", "generated"))
    if mapping.get("nullable") is False and not filled:
        value = candidate_value(mapping["type"])
        draft.op["up"] = value or "NULL"
        draft.review(
            "up",
            "NOT NULL without a default: existing rows and old clients' inserts need a value; "
            + (f"{value} is a candidate" if value else "no candidate for this type, give an expression"),
        )
    shape.tables.setdefault(table, {})[col.colname] = known(mapping)


def _fk_options(c: ast.Constraint) -> dict[str, Any]:
    """A foreign key's options as add_constraint's `references` takes them; only those that differ from the default."""
    options: dict[str, Any] = {}
    if c.fk_del_action not in ("a", "\x00", None):
        options["on_delete"] = ON_DELETE[c.fk_del_action]
    if c.fk_upd_action not in ("a", "\x00", None):
        options["on_update"] = ON_DELETE[c.fk_upd_action]
    if c.fk_matchtype == "f":
        options["match"] = "full"
    elif c.fk_matchtype not in ("s", "\x00", None):
        raise Unsupported("MATCH PARTIAL of a foreign key")
    if c.deferrable:
        options["deferrable"] = True
    if c.initdeferred:
        options["initially_deferred"] = True
    return options


def _constraint(table: str, c: ast.Constraint, draft: Draft, state: State) -> None:
    if c.skip_validation:
        raise Unsupported("a NOT VALID constraint (already brief: kept as written)")
    if (c.deferrable or c.initdeferred) and c.contype != ConstrType.CONSTR_FOREIGN:
        raise Unsupported("a DEFERRABLE constraint")
    if c.contype == ConstrType.CONSTR_CHECK and not c.is_no_inherit:
        refs = column_refs(c.raw_expr)
        name = c.conname or pg_name(table, refs[:1], "check")
        draft.op = {"op": "add_constraint", "table": table, "name": name, "type": "check", "check": deparse(c.raw_expr)}
        state.needs_next_migration(draft, table, refs, "check")
    elif c.contype == ConstrType.CONSTR_UNIQUE and c.indexname is None and not c.including and not c.nulls_not_distinct:
        columns = [k.sval for k in c.keys]
        name = c.conname or pg_name(table, columns, "key")
        draft.op = {"op": "add_constraint", "table": table, "name": name, "type": "unique", "columns": columns}
    elif c.contype == ConstrType.CONSTR_PRIMARY and c.indexname is None and not c.including:
        draft.op = {"op": "add_primary_key", "table": table, "columns": [k.sval for k in c.keys]}
        if c.conname and c.conname != f"{table}_pkey":
            draft.op["name"] = c.conname
    elif c.contype == ConstrType.CONSTR_FOREIGN:
        if not c.pk_attrs:
            raise Unsupported("a foreign key without its referenced columns (liveshift names them)")
        if c.pktable.schemaname:
            raise Unsupported("a foreign key to a table in another schema")
        if c.fk_del_set_cols:
            raise Unsupported("ON DELETE SET NULL/DEFAULT (columns) of a foreign key")
        columns = [a.sval for a in c.fk_attrs]
        references = {"table": c.pktable.relname, "columns": [a.sval for a in c.pk_attrs], **_fk_options(c)}
        name = c.conname or pg_name(table, columns, "fkey")
        draft.op = {"op": "add_constraint", "table": table, "name": name, "type": "foreign_key", "columns": columns}
        draft.op["references"] = references
    elif c.contype == ConstrType.CONSTR_NOTNULL and not c.is_no_inherit:
        columns = [k.sval for k in c.keys]
        name = c.conname or pg_name(table, columns, "not_null")
        draft.op = {"op": "add_constraint", "table": table, "name": name, "type": "not_null", "columns": columns}
        draft.notes.append("NOT NULL through a hidden copy of the column: rows that are NULL fail verify; give up")
    else:
        raise Unsupported(f"ADD CONSTRAINT … {c.contype.name.removeprefix('CONSTR_')}")


def _alter_type(table: str, cmd: ast.AlterTableCmd, op: dict[str, Any], draft: Draft, shape: Known) -> None:
    col: ast.ColumnDef = cmd.def_
    if col.collClause is not None:
        raise Unsupported("a type change with COLLATE")
    op["type"] = type_name(col.typeName)
    old = shape.column(table, cmd.name)
    if col.raw_default is not None:
        op["up"] = deparse(col.raw_default)
    else:
        op["up"] = f"CAST({_quote(cmd.name)} AS {op['type']})"
        draft.review("up", "no USING: the candidate is the cast PostgreSQL would apply; check it for existing rows")
    if old is not None:
        op["down"] = f"CAST({_quote(cmd.name)} AS {old.type})"
        draft.review("down", f"the SQL has no way back: the candidate casts the new value to the old type {old.type}")
    else:
        draft.review(
            "down", "the SQL has no way back: liveshift casts the new value back to the old type unless you give one"
        )
    if old is not None:
        old.type = op["type"]


def _set_not_null(table: str, column: str, op: dict[str, Any], draft: Draft, shape: Known) -> None:
    op["nullable"] = False
    old = shape.column(table, column)
    default = op.get("default") or (old.default if old else None)
    if default is not None:
        op.setdefault("up", f"coalesce({_quote(column)}, {default})")
        return
    value = candidate_value(old.type) if old else None
    if value is not None:
        op.setdefault("up", f"coalesce({_quote(column)}, {value})")
    draft.review(
        "up",
        "SET NOT NULL without a default: old clients may still write NULL, and existing NULLs would fail; "
        + (f"coalesce with {value} is a candidate" if value else "give up, e.g. coalesce(col, …)"),
    )
    if old:
        old.nullable = False


def _drop_not_null(table: str, column: str, op: dict[str, Any], draft: Draft, shape: Known) -> None:
    op["nullable"] = True
    old = shape.column(table, column)
    value = candidate_value(old.type) if old else None
    if value is not None:
        op["down"] = f"coalesce({_quote(column)}, {value})"
    draft.review(
        "down",
        "new clients may write NULL, which the old column (NOT NULL until contract) cannot store; "
        + (f"coalesce with {value} is a candidate" if value else "give down, e.g. coalesce(col, …)"),
    )
    if old:
        old.nullable = True


def _quote(name: str) -> str:
    return deparse(ast.ColumnRef(fields=(ast.String(sval=name),)))


def _fold_into_added(cmd: ast.AlterTableCmd, draft: Draft) -> bool:
    """A default or NULL change of a column an earlier statement of the file adds: part of that add_column."""
    column, op = draft.op["column"], draft.op
    sub = cmd.subtype
    if sub == AlterTableType.AT_ColumnDefault and cmd.def_ is None:
        if "default" in column:  # existing rows got the default, later inserts get none
            op.setdefault("up", column.pop("default"))
        return True
    if sub == AlterTableType.AT_ColumnDefault:
        op.setdefault("up", column.get("default", "NULL"))  # existing rows keep what ADD COLUMN gave them
        column["default"] = deparse(cmd.def_)
        return True
    if sub == AlterTableType.AT_DropNotNull:
        column.pop("nullable", None)
        return True
    if sub == AlterTableType.AT_AddIdentity:
        column["identity"] = identity_mapping(cmd.def_)
        column.pop("nullable", None)  # implied; the sequence fills the rows, not a candidate `up`
        op.pop("up", None)
        draft.reviews = [r for r in draft.reviews if r[0] != "up"]
        return True
    if sub == AlterTableType.AT_SetNotNull:
        column["nullable"] = False
        if "up" not in op and "default" not in column:
            value = candidate_value(column["type"])
            op["up"] = value or "NULL"
            draft.review("up", "NOT NULL without a default: old clients' inserts and existing rows need a value")
        return True
    return False


_COLUMN_CMDS = {
    AlterTableType.AT_AlterColumnType,
    AlterTableType.AT_SetNotNull,
    AlterTableType.AT_DropNotNull,
    AlterTableType.AT_ColumnDefault,
    AlterTableType.AT_AddIdentity,
}


def _alter_column(table: str, cmd: ast.AlterTableCmd, draft: Draft, shape: Known) -> None:
    op = draft.op
    sub = cmd.subtype
    if sub == AlterTableType.AT_AlterColumnType:
        _alter_type(table, cmd, op, draft, shape)
    elif sub == AlterTableType.AT_SetNotNull:
        _set_not_null(table, cmd.name, op, draft, shape)
    elif sub == AlterTableType.AT_DropNotNull:
        _drop_not_null(table, cmd.name, op, draft, shape)
    elif sub == AlterTableType.AT_AddIdentity:
        op["identity"] = identity_mapping(cmd.def_)
    else:
        op["default"] = deparse(cmd.def_) if cmd.def_ is not None else None
        old = shape.column(table, cmd.name)
        if old:
            old.default = op["default"]


def _plain_cmd(table: str, cmd: ast.AlterTableCmd, draft: Draft, state: State) -> None:
    shape = state.known
    sub = cmd.subtype
    cascade = cmd.behavior == DropBehavior.DROP_CASCADE
    if cascade and sub != AlterTableType.AT_DropColumn:
        raise Unsupported("CASCADE")
    if sub == AlterTableType.AT_AddColumn:
        _add_column(table, cmd.def_, draft, shape)
        if cmd.missing_ok:
            draft.notes.append("IF NOT EXISTS dropped: liveshift plan refuses the migration when it exists")
    elif sub == AlterTableType.AT_AddConstraint:
        _constraint(table, cmd.def_, draft, state)
    elif sub == AlterTableType.AT_DropColumn:
        draft.op = {"op": "drop_column", "table": table, "column": cmd.name}
        if cascade:  # what reads the column goes at contract, with it (never at expand, as raw SQL would)
            draft.op["drop_dependents"] = True
        old = shape.tables.get(table, {}).pop(cmd.name, None)
        if old is not None and not old.nullable and old.default is None:
            value = candidate_value(old.type)
            draft.op["down"] = value or "NULL"
            draft.review("down", "NOT NULL without a default: new clients' inserts need a value for it until contract")
    elif sub == AlterTableType.AT_DropConstraint:
        draft.op = {"op": "drop_constraint", "table": table, "name": cmd.name}
    else:
        raise Unsupported(f"ALTER TABLE … {sub.name.removeprefix('AT_')}")


def alter_table(node: ast.AlterTableStmt, line: int, source: str, state: State) -> None:
    """Append the statement's operations to `state` (a draft.State); Unsupported when any part has none."""
    table = node.relation.relname
    merged: dict[str, Draft] = {}  # ALTER COLUMN sub-commands of this statement, by column
    for cmd in node.cmds or ():
        if cmd.subtype in _COLUMN_CMDS:
            added = state.added.get((table, cmd.name))
            if added is not None and _fold_into_added(cmd, added):
                continue
            if cmd.name not in merged:
                merged[cmd.name] = Draft({"op": "alter_column", "table": table, "column": cmd.name}, line, source)
                state.drafts.append(merged[cmd.name])
            _alter_column(table, cmd, merged[cmd.name], state.known)
            continue
        draft = Draft({}, line, source)
        _plain_cmd(table, cmd, draft, state)
        state.drafts.append(draft)
        if draft.op["op"] == "add_column":
            state.added[(table, draft.op["column"]["name"])] = draft
            state.introduced.add((table, draft.op["column"]["name"]))
