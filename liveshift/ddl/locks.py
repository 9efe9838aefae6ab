"""Which tables a step locks, in which mode: read from its SQL with pglast, or as its builder declared.

The executor needs this before it requests anything: it waits outside PostgreSQL's lock queue while a
long transaction holds (or waits for) a lock that conflicts with the step's (see blockers.py). The modes
are PostgreSQL's, as pg_locks names them; the conflict table is the one in PostgreSQL's documentation
("Table-Level Lock Modes").
"""

from __future__ import annotations

from collections.abc import Iterator

from liveshift.ddl.steps import (
    ACCESS_EXCLUSIVE_BRIEF,
    ACCESS_EXCLUSIVE_TRIGGERS,
    CONCURRENTLY,
    SHARE_ROW_EXCLUSIVE_BRIEF,
    SHARE_UPDATE_EXCLUSIVE,
    Step,
)

ACCESS_SHARE = "AccessShareLock"
ROW_SHARE = "RowShareLock"
ROW_EXCLUSIVE = "RowExclusiveLock"
SHARE_UPDATE = "ShareUpdateExclusiveLock"
SHARE = "ShareLock"
SHARE_ROW = "ShareRowExclusiveLock"
EXCLUSIVE = "ExclusiveLock"
ACCESS_EXCLUSIVE = "AccessExclusiveLock"

# weakest to strongest
MODES = (ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE, SHARE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE)

CONFLICTS: dict[str, frozenset[str]] = {
    ACCESS_SHARE: frozenset({ACCESS_EXCLUSIVE}),
    ROW_SHARE: frozenset({EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ROW_EXCLUSIVE: frozenset({SHARE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_UPDATE: frozenset({SHARE_UPDATE, SHARE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_ROW: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE, SHARE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    EXCLUSIVE: frozenset({ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE, SHARE, SHARE_ROW, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ACCESS_EXCLUSIVE: frozenset(MODES),
}

# the modes application statements take: SELECT, SELECT FOR UPDATE/SHARE, INSERT/UPDATE/DELETE
APPLICATION_MODES = (ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE)

# a step whose SQL cannot be read (a DO block): the mode its label names
LABEL_MODES = {
    ACCESS_EXCLUSIVE_BRIEF: ACCESS_EXCLUSIVE,
    ACCESS_EXCLUSIVE_TRIGGERS: ACCESS_EXCLUSIVE,
    SHARE_ROW_EXCLUSIVE_BRIEF: SHARE_ROW,
    SHARE_UPDATE_EXCLUSIVE: SHARE_UPDATE,
    CONCURRENTLY: SHARE_UPDATE,
}

Table = tuple[str, str]


def strongest(modes: list[str]) -> str | None:
    return max(modes, key=MODES.index) if modes else None


def stalls_applications(mode: str | None) -> bool:
    """Whether an application statement would queue behind a request for `mode`."""
    return mode is not None and any(app in CONFLICTS[mode] for app in APPLICATION_MODES)


def _range_var(rv: object) -> Table:
    return (getattr(rv, "schemaname", None) or "", rv.relname)  # type: ignore[attr-defined]


def _foreign_key_targets(constraints: object) -> Iterator[Table]:
    from pglast import ast, enums

    for con in constraints or ():  # type: ignore[attr-defined]
        if isinstance(con, ast.Constraint) and con.contype == enums.ConstrType.CONSTR_FOREIGN:
            yield _range_var(con.pktable)


def _alter_table(stmt: object) -> Iterator[tuple[Table, str]]:
    """ALTER TABLE: the table in the strongest mode its subcommands need, and a new foreign key's target."""
    from pglast import ast, enums

    table = _range_var(stmt.relation)  # type: ignore[attr-defined]
    if stmt.objtype != enums.ObjectType.OBJECT_TABLE:  # type: ignore[attr-defined]
        return  # ALTER INDEX/VIEW/SEQUENCE: no application table
    modes = []
    for cmd in stmt.cmds:  # type: ignore[attr-defined]
        if cmd.subtype == enums.AlterTableType.AT_ValidateConstraint:
            modes.append(SHARE_UPDATE)
        elif cmd.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            fks = list(_foreign_key_targets([cmd.def_]))
            modes.append(SHARE_ROW if fks else ACCESS_EXCLUSIVE)
            yield from ((target, SHARE_ROW) for target in fks)
        else:
            modes.append(ACCESS_EXCLUSIVE)
    yield table, strongest(modes) or ACCESS_EXCLUSIVE


def _statement_locks(stmt: object) -> Iterator[tuple[Table, str]]:
    from pglast import ast, enums

    if isinstance(stmt, ast.AlterTableStmt):
        yield from _alter_table(stmt)
    elif isinstance(stmt, ast.CreateTrigStmt):
        yield _range_var(stmt.relation), SHARE_ROW
    elif isinstance(stmt, ast.RenameStmt) and (
        enums.ObjectType.OBJECT_TABLE in (stmt.relationType, stmt.renameType)
        or stmt.renameType == enums.ObjectType.OBJECT_TABCONSTRAINT
    ):
        # RENAME COLUMN (relationType), the table itself (renameType), or a constraint
        yield _range_var(stmt.relation), ACCESS_EXCLUSIVE
    elif isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TRIGGER:
        for names in stmt.objects:
            *schema, table, _trigger = (n.sval for n in names)
            yield (schema[0] if schema else "", table), ACCESS_EXCLUSIVE
    elif isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
        for names in stmt.objects:
            *schema, table = (n.sval for n in names)
            yield (schema[0] if schema else "", table), ACCESS_EXCLUSIVE
    elif isinstance(stmt, ast.IndexStmt):
        yield _range_var(stmt.relation), SHARE_UPDATE if stmt.concurrent else SHARE
    elif isinstance(stmt, ast.CreateStmt):
        # a new table: only the tables its foreign keys reference are in use
        columns = [c for c in stmt.tableElts or () if isinstance(c, ast.ColumnDef)]
        yield from ((t, SHARE_ROW) for t in _foreign_key_targets(stmt.tableElts))
        for column in columns:
            yield from ((t, SHARE_ROW) for t in _foreign_key_targets(column.constraints))


def _drops(stmt: object) -> bool:
    from pglast import ast, enums

    if isinstance(stmt, ast.DropStmt):
        return stmt.removeType == enums.ObjectType.OBJECT_TABLE
    drop_cmds = (enums.AlterTableType.AT_DropColumn, enums.AlterTableType.AT_DropConstraint)
    return isinstance(stmt, ast.AlterTableStmt) and any(c.subtype in drop_cmds for c in stmt.cmds)


def drops_objects(text: str) -> bool:
    """Whether `text` drops a table, column or constraint: with a foreign key, that also locks the table at
    its other end, which the SQL does not name."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return any(_drops(raw.stmt) for raw in parse_sql(text))
    except ParseError:
        return False


def statement_locks(text: str) -> dict[Table, str]:
    """The tables `text` locks and the strongest mode on each; {} for SQL it cannot read (e.g. a DO block)."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(text)
    except ParseError:
        return {}
    locks: dict[Table, str] = {}
    for raw in statements:
        for table, mode in _statement_locks(raw.stmt):
            locks[table] = strongest([mode, *([locks[table]] if table in locks else [])]) or mode
    return locks


def step_locks(step: Step) -> tuple[tuple[Table, ...], str | None]:
    """The step's tables and its strongest mode: as its builder declared them, else read from its SQL."""
    if step.parts:
        locks = [step_locks(part) for part in step.parts]
        tables = tuple(dict.fromkeys(t for ts, _ in locks for t in ts))
        return tables, strongest([m for _, m in locks if m])
    derived = statement_locks(step.statement.as_string(None)) if not step.tables else {}
    tables = step.tables or tuple(derived)
    mode = step.lock_mode or strongest(list(derived.values())) or (LABEL_MODES.get(step.lock) if tables else None)
    return tables, mode
