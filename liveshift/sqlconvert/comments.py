"""COMMENT ON TABLE / COLUMN / CONSTRAINT … ON as the comment operation (set at contract)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import ObjectType

from liveshift.sqlconvert.draft import Draft, State, Unsupported

# how many names each kind takes unqualified: table; table, column; table, constraint
_PARTS = {ObjectType.OBJECT_TABLE: 1, ObjectType.OBJECT_COLUMN: 2, ObjectType.OBJECT_TABCONSTRAINT: 2}


def comment(node: ast.CommentStmt, draft: Draft, state: State) -> None:
    wanted = _PARTS.get(node.objtype)
    if wanted is None:
        raise Unsupported(f"COMMENT ON {node.objtype.name.removeprefix('OBJECT_')}")
    names = [n.sval for n in node.object] if isinstance(node.object, (list, tuple)) else []
    if len(names) not in (wanted, wanted + 1):
        raise Unsupported("a comment's object named with a database")
    if len(names) > wanted:
        state.schemas.add(names[0])
        if len(state.schemas) > 1:
            raise Unsupported(f"a migration holds one schema; this file names {', '.join(sorted(state.schemas))}")
    table = names[-wanted]
    if table in state.raw_tables:
        raise Unsupported(f"names {table}, created by raw_sql above: liveshift does not model that table")
    draft.op = {"op": "comment", "table": table}
    if node.objtype == ObjectType.OBJECT_COLUMN:
        draft.op["column"] = names[-1]
    elif node.objtype == ObjectType.OBJECT_TABCONSTRAINT:
        draft.op["constraint"] = names[-1]
    draft.op["comment"] = node.comment
