"""Enum types as liveshift operations: CREATE TYPE … AS ENUM, ALTER TYPE … ADD VALUE / RENAME VALUE, DROP TYPE."""

from __future__ import annotations

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from liveshift.sqlconvert.draft import Draft, State, Unsupported


def _type_name(names: tuple[ast.String, ...] | list[ast.String], state: State) -> str:
    """The type's name; its schema, when it names one, is the migration's (one schema per file)."""
    parts = [n.sval for n in names]
    if len(parts) > 2:
        raise Unsupported("a type name with a database")
    if len(parts) == 2:
        state.schemas.add(parts[0])
        if len(state.schemas) > 1:
            raise Unsupported(f"a migration holds one schema; this file names {', '.join(sorted(state.schemas))}")
    return parts[-1]


def create_enum(node: ast.CreateEnumStmt, draft: Draft, state: State) -> None:
    name = _type_name(node.typeName, state)
    draft.op = {"op": "create_enum", "name": name, "values": [v.sval for v in node.vals or ()]}


def alter_enum(node: ast.AlterEnumStmt, draft: Draft, state: State) -> None:
    name = _type_name(node.typeName, state)
    if node.oldVal:
        draft.op = {"op": "rename_enum_value", "enum": name, "value": node.oldVal, "to": node.newVal}
        return
    draft.op = {"op": "add_enum_value", "enum": name, "value": node.newVal}
    if node.newValNeighbor:
        draft.op["after" if node.newValIsAfter else "before"] = node.newValNeighbor
    if node.skipIfNewValExists:
        draft.op["if_not_exists"] = True


def drop_types(node: ast.DropStmt, line: int, source: str, state: State) -> None:
    """DROP TYPE of enum types: drop_enum each (plan refuses a type that is not an enum of the schema)."""
    if node.behavior == DropBehavior.DROP_CASCADE:
        raise Unsupported("DROP TYPE … CASCADE")
    if node.removeType != ObjectType.OBJECT_TYPE:
        raise Unsupported(f"DROP {node.removeType.name.removeprefix('OBJECT_')}")
    drafts = []
    for obj in node.objects:
        draft = Draft({"op": "drop_enum", "name": _type_name(obj.names, state)}, line, source)
        if node.missing_ok:
            draft.notes.append("IF EXISTS dropped: liveshift plan refuses the migration when it does not exist")
        drafts.append(draft)
    state.drafts += drafts
