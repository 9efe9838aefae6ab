"""`liveshift convert`: plain DDL as a liveshift migration file.

Each statement becomes the operation(s) that make the same change safely; a statement (or an ALTER TABLE with a
sub-command) liveshift has no operation for is kept as `raw_sql`. Where the SQL does not say something an
operation needs (the way back of a type change, a value for a new NOT NULL column), the best candidate is
written and marked REVIEW, in the file and in `Conversion.reviews`; nothing is guessed silently. The result
is validated as a migration file before it is returned.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from pglast import ast
from pglast.enums import ObjectType
from pydantic import BaseModel

from liveshift.errors import SpecError
from liveshift.spec import Migration, parse_migration
from liveshift.sqlconvert.alter import alter_table
from liveshift.sqlconvert.analyze import analyse
from liveshift.sqlconvert.comments import comment
from liveshift.sqlconvert.draft import Draft, Review, State, Unsupported
from liveshift.sqlconvert.enums import alter_enum, create_enum, drop_types
from liveshift.sqlconvert.sqltext import deparse
from liveshift.sqlconvert.statements import STDIN, NothingToConvert, SqlInputError, Statement, read_sql
from liveshift.sqlconvert.tables import create_index, create_table, drop, rename

# session and transaction control: liveshift runs each step in its own transaction with its own lock_timeout
SKIPPED = (ast.TransactionStmt, ast.VariableSetStmt)
# statements PostgreSQL refuses inside a transaction block, where raw_sql runs
OUTSIDE_TRANSACTION = (ast.VacuumStmt, ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt)


class Conversion(BaseModel):
    text: str  # the migration file, YAML with comments
    migration: Migration
    reviews: list[Review]
    notes: list[str]  # file:line: what else the reader should know (raw_sql kept, statements skipped)


def default_name(path: str) -> str:
    """A migration name from a file name: `0002_Add users.sql` -> `m0002_add_users`."""
    stem = re.sub(r"[^a-z0-9_]+", "_", Path(path).stem.lower()).strip("_") or "converted"
    return (stem if stem[0].isalpha() or stem[0] == "_" else f"m{stem}")[:40]


def _relation(node: object) -> ast.RangeVar | None:
    return getattr(node, "relation", None)


def _convert(stmt: Statement, state: State) -> None:
    node, source = stmt.node, stmt.text.splitlines()[0]
    if isinstance(node, ast.AlterTableStmt):
        if node.objtype != ObjectType.OBJECT_TABLE or node.missing_ok:
            raise Unsupported("ALTER TABLE IF EXISTS, or ALTER of a view, index, sequence or type")
        alter_table(node, stmt.line, source, state)
        return
    handlers = {
        ast.CreateStmt: create_table,
        ast.IndexStmt: create_index,
        ast.RenameStmt: rename,
        ast.CreateEnumStmt: create_enum,
        ast.AlterEnumStmt: alter_enum,
        ast.CommentStmt: comment,
    }
    if isinstance(node, ast.DropStmt):
        (drop_types if node.removeType == ObjectType.OBJECT_TYPE else drop)(node, stmt.line, source, state)
        return
    handler = handlers.get(type(node))
    if handler is None:
        raise Unsupported(f"no liveshift operation for {stmt.kind.removesuffix('Stmt')}")
    draft = Draft({}, stmt.line, source)
    handler(node, draft, state)
    state.drafts.append(draft)


def _raw(stmt: Statement, reason: str) -> Draft:
    """The statement as raw_sql, with what lint finds in it (raw SQL runs as written, at expand)."""
    draft = Draft({"op": "raw_sql", "up": stmt.text}, stmt.line, stmt.text.splitlines()[0])
    draft.notes.append(f"kept as raw_sql ({reason}): runs as written at expand, unchecked")
    node = stmt.node
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        draft.op["up"] = deparse(type(node)(**{**_fields(node), "concurrent": False}))
        draft.review("up", "CONCURRENTLY removed (raw SQL runs in a transaction): this blocks writes while it builds")
    codes = sorted({code for _, codes in analyse(node) for code in codes})
    if codes:
        draft.notes.append("lint: " + ", ".join(codes))
    return draft


def _fields(node: ast.Node) -> dict[str, object]:
    return {name: getattr(node, name) for name in node.__slots__}


def _named_tables(node: object) -> set[str]:
    """Every table a statement names: its target, a foreign key's referenced table, a DROP's objects."""
    if isinstance(node, ast.RangeVar):
        return {node.relname}
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        return {obj[-1].sval for obj in node.objects}
    if isinstance(node, (list, tuple)):
        return set().union(*(_named_tables(item) for item in node))
    if isinstance(node, ast.Node):
        return set().union(*(_named_tables(getattr(node, name)) for name in node.__slots__))
    return set()


def _on_raw_table(stmt: Statement, state: State) -> str | None:
    """The reason `stmt` must stay raw_sql because it names a table this file creates as raw_sql, if it does."""
    raw = sorted(_named_tables(stmt.node) & state.raw_tables)
    if not raw:
        return None
    if isinstance(stmt.node, ast.RenameStmt) and stmt.node.renameType == ObjectType.OBJECT_TABLE:
        state.raw_tables.add(stmt.node.newname)
    return f"names {', '.join(raw)}, created by raw_sql above: liveshift does not model that table"


def _kept_raw(stmt: Statement, reason: str, state: State) -> None:
    state.drafts.append(_raw(stmt, reason))
    if isinstance(stmt.node, ast.CreateStmt):
        state.raw_tables.add(stmt.node.relation.relname)


def _schemas(stmt: Statement, state: State) -> None:
    relation = _relation(stmt.node)
    if relation is not None and relation.schemaname:
        state.schemas.add(relation.schemaname)
        if len(state.schemas) > 1:
            raise stmt.error(f"a migration holds one schema; this file names {', '.join(sorted(state.schemas))}")


def convert_drafts(statements: list[Statement], file: str, state: State | None = None) -> tuple[State, list[str]]:
    """The operations of `statements` as drafts (with what the caller already knows in `state`), and notes."""
    state, notes = state or State(), []
    for stmt in statements:
        if isinstance(stmt.node, SKIPPED):
            notes.append(f"{file}:{stmt.line}: skipped {stmt.text.splitlines()[0]!r} (liveshift runs its own)")
            continue
        if isinstance(stmt.node, OUTSIDE_TRANSACTION):
            raise stmt.error("cannot run inside a transaction (raw_sql does): run it outside the migration")
        _schemas(stmt, state)
        reason = _on_raw_table(stmt, state)
        if reason is not None:
            _kept_raw(stmt, reason, state)
            continue
        attempt = copy.deepcopy(state)
        try:
            _convert(stmt, attempt)
            state = attempt
        except Unsupported as exc:
            _kept_raw(stmt, str(exc), state)
    return state, notes


def finish(state: State, notes: list[str], file: str, name: str, header: str | None = None) -> Conversion:
    """The migration file of the drafts, validated, with its reviews and notes."""
    if not state.drafts:
        raise NothingToConvert(file)
    schema = next(iter(state.schemas), None)
    text = render(name, schema, state.drafts, file, header)
    migration = _validated(text, state.drafts, file)
    reviews = [
        Review(file=file, line=d.line, index=i, op=d.op["op"], field=f, message=m)
        for i, d in enumerate(state.drafts)
        for f, m in d.reviews
    ]
    notes = notes + [
        f"{file}:{d.line}: operations[{i}] ({d.op['op']}): {n}" for i, d in enumerate(state.drafts) for n in d.notes
    ]
    return Conversion(text=text, migration=migration, reviews=reviews, notes=notes)


def convert_statements(statements: list[Statement], file: str, name: str) -> Conversion:
    state, notes = convert_drafts(statements, file)
    return finish(state, notes, file, name)


def render(name: str, schema: str | None, drafts: list[Draft], file: str, header: str | None = None) -> str:
    lines = [
        header or f"# converted from {file} by `liveshift convert`",
        "# REVIEW marks a value the SQL does not give: a candidate to check before `liveshift plan` and `start`",
    ]
    header = {"name": name, **({"schema": schema} if schema else {})}
    lines += yaml.safe_dump(header, sort_keys=False, allow_unicode=True).splitlines()
    lines.append("operations:")
    for index, draft in enumerate(drafts):
        lines.append(f"  # [{index}] {file}:{draft.line}: {draft.source}")
        lines += [f"  #   {note}" for note in draft.notes]
        lines += [f"  #   REVIEW {field}: {message}" for field, message in draft.reviews]
        dumped = yaml.safe_dump([draft.op], sort_keys=False, allow_unicode=True, width=100_000)
        lines += ["  " + line for line in dumped.splitlines()]
    return "\n".join(lines) + "\n"


def _validated(text: str, drafts: list[Draft], file: str) -> Migration:
    try:
        return parse_migration(yaml.safe_load(text), file=file)
    except SpecError as exc:
        line = drafts[exc.index].line if exc.index is not None and exc.index < len(drafts) else None
        where = SpecError(exc.message, index=exc.index, op=exc.op, field=exc.field)  # the file is named once
        raise SqlInputError(f"the converted migration is not valid: {where}", file=file, line=line) from None


def convert_file(path: str, name: str | None = None) -> Conversion:
    """Convert the SQL file at `path` (`-`: standard input)."""
    statements = read_sql(path)
    label = "<stdin>" if path == STDIN else path
    return convert_statements(statements, label, name or default_name("converted" if path == "-" else path))
