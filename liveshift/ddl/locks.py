"""What a step locks: PostgreSQL's table lock modes, the `Lock` each statement builder declares, and a
reading of the same from SQL with pglast.

The executor needs the lock before it requests anything: it waits outside PostgreSQL's lock queue while a
long transaction holds (or waits for) a lock that conflicts with the step's (see blockers.py). It uses the
lock the step's builder declared (statements.py). The pglast reading (`read_lock`) is the check on those
declarations: a unit test reads every builder's SQL and compares (tests/unit/test_statements.py); the
executor reads it only for the user's raw SQL, which no builder declares. The modes are PostgreSQL's, as
pg_locks names them; the conflict table is the one in PostgreSQL's documentation ("Table-Level Lock Modes").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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

Table = tuple[str, str]

# how `liveshift plan` names a mode, and what it adds in parentheses: every ACCESS EXCLUSIVE statement a
# builder makes changes the catalog only (no scan, no rewrite), a SHARE ROW EXCLUSIVE one (a foreign key
# NOT VALID) is as brief, and SHARE UPDATE EXCLUSIVE (VALIDATE, CONCURRENTLY) blocks no application statement
_NOTES = {ACCESS_EXCLUSIVE: "catalog only, brief", SHARE_ROW: "brief", SHARE_UPDATE: "reads and writes continue"}
NO_TABLE_LABEL = "none on application tables"


@dataclass(frozen=True)
class Lock:
    """What one step locks, as its builder declares it; `label` is what `liveshift plan` prints."""

    # the strongest mode it takes (one of MODES); None: it locks no application table
    mode: str | None
    # the application tables it locks in `mode`, as (schema, table); a foreign key's referenced table too.
    # Empty with a mode: the statement locks only an index (the label still names the mode)
    tables: tuple[Table, ...] = ()
    # CREATE/DROP INDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY: outside a transaction, waiting for older
    # snapshots but blocking no one
    concurrently: bool = False
    # the one statement of several that takes `mode` (the others take less): the label names it
    by: str | None = None
    # drops a table, column or constraint: with a foreign key, that also locks the table at its other end,
    # which only the catalog at run time knows (blockers.linked_tables)
    linked: bool = False

    @property
    def label(self) -> str:
        if self.mode is None:
            return NO_TABLE_LABEL
        name = _mode_name(self.mode) + (", CONCURRENTLY" if self.concurrently else "")
        note = f"brief: {self.by}" if self.by else _NOTES.get(self.mode)
        return f"{name} ({note})" if note else name

    @property
    def stalls_applications(self) -> bool:
        """Whether an application statement would queue behind its request: a mode they conflict with, on an
        application table (an index's own lock queues none of them)."""
        return bool(self.tables) and stalls_applications(self.mode)


NO_TABLE_LOCK = Lock(None)


def _mode_name(mode: str) -> str:
    """PostgreSQL's name of a mode as SQL writes it: ShareRowExclusiveLock -> SHARE ROW EXCLUSIVE."""
    words = "".join(f" {c}" if c.isupper() else c for c in mode.removesuffix("Lock")).split()
    return " ".join(w.upper() for w in words)


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
        partition = _partition_cmd(cmd)
        if partition is not None:
            modes.append(partition[0])
            yield _range_var(cmd.def_.name), partition[1]
        elif cmd.subtype == enums.AlterTableType.AT_ValidateConstraint:
            modes.append(SHARE_UPDATE)
        elif cmd.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            fks = list(_foreign_key_targets([cmd.def_]))
            modes.append(SHARE_ROW if fks else ACCESS_EXCLUSIVE)
            yield from ((target, SHARE_ROW) for target in fks)
        else:
            modes.append(ACCESS_EXCLUSIVE)
    yield table, strongest(modes) or ACCESS_EXCLUSIVE


def _commented_on_tables() -> set[object]:
    from pglast import enums

    kinds = enums.ObjectType
    return {kinds.OBJECT_TABLE, kinds.OBJECT_COLUMN, kinds.OBJECT_TABCONSTRAINT}


_COMMENTED_ON_TABLES = _commented_on_tables()


def _commented_table(stmt: object) -> Table:
    """COMMENT ON TABLE t / COLUMN t.c / CONSTRAINT c ON t: the table, which it locks in SHARE UPDATE EXCLUSIVE."""
    from pglast import enums

    names = [n.sval for n in stmt.object]  # type: ignore[attr-defined]
    if stmt.objtype != enums.ObjectType.OBJECT_TABLE:  # type: ignore[attr-defined]
        names = names[:-1]  # the column's or constraint's own name last
    *schema, table = names
    return (schema[0] if schema else "", table)


def _partition_cmd(cmd: object) -> tuple[str, str] | None:
    """ATTACH or DETACH PARTITION: (mode on the partitioned table, mode on the partition), as PostgreSQL takes
    them; None for any other subcommand. A DEFAULT partition it also locks is not named in the SQL."""
    from pglast import enums

    subtype = cmd.subtype  # type: ignore[attr-defined]
    if subtype == enums.AlterTableType.AT_AttachPartition:
        return SHARE_UPDATE, ACCESS_EXCLUSIVE
    if subtype == enums.AlterTableType.AT_DetachPartitionFinalize:
        return SHARE_UPDATE, SHARE_UPDATE
    if subtype == enums.AlterTableType.AT_DetachPartition:
        mode = SHARE_UPDATE if cmd.def_.concurrent else ACCESS_EXCLUSIVE  # type: ignore[attr-defined]
        return mode, mode
    return None


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
    elif isinstance(stmt, ast.CommentStmt) and stmt.objtype in _COMMENTED_ON_TABLES:
        yield _commented_table(stmt), SHARE_UPDATE
    elif isinstance(stmt, ast.CreateStmt):
        # a new table: only the tables its foreign keys reference are in use; a new partition (PARTITION OF)
        # changes its partitioned table's partition descriptor, under ACCESS EXCLUSIVE
        if stmt.partbound is not None:
            yield from ((_range_var(parent), ACCESS_EXCLUSIVE) for parent in stmt.inhRelations or ())
        columns = [c for c in stmt.tableElts or () if isinstance(c, ast.ColumnDef)]
        yield from ((t, SHARE_ROW) for t in _foreign_key_targets(stmt.tableElts))
        for column in columns:
            yield from ((t, SHARE_ROW) for t in _foreign_key_targets(column.constraints))


def _drops(stmt: object) -> bool:
    """Whether `stmt` drops a table, column or constraint."""
    from pglast import ast, enums

    if isinstance(stmt, ast.DropStmt):
        return stmt.removeType == enums.ObjectType.OBJECT_TABLE
    drop_cmds = (enums.AlterTableType.AT_DropColumn, enums.AlterTableType.AT_DropConstraint)
    return isinstance(stmt, ast.AlterTableStmt) and any(c.subtype in drop_cmds for c in stmt.cmds)


def _concurrently(stmt: object) -> bool:
    from pglast import ast

    if isinstance(stmt, ast.AlterTableStmt):  # DETACH PARTITION … CONCURRENTLY
        return any(isinstance(c.def_, ast.PartitionCmd) and c.def_.concurrent for c in stmt.cmds)
    if isinstance(stmt, ast.ReindexStmt):  # REINDEX (CONCURRENTLY) or REINDEX … CONCURRENTLY: an option
        return any(p.defname == "concurrently" for p in stmt.params or ())
    return isinstance(stmt, ast.IndexStmt | ast.DropStmt) and bool(stmt.concurrent)


def _parse(text: str) -> list[object]:
    """The statements of `text`; none for SQL pglast cannot read."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return [raw.stmt for raw in parse_sql(text)]
    except ParseError:
        return []


def _table_locks(statements: list[object]) -> dict[Table, str]:
    locks: dict[Table, str] = {}
    for stmt in statements:
        for table, mode in _statement_locks(stmt):
            locks[table] = strongest([mode, *([locks[table]] if table in locks else [])]) or mode
    return locks


def statement_locks(text: str) -> dict[Table, str]:
    """The tables `text` locks and the strongest mode on each; {} for SQL it cannot read (e.g. a DO block)."""
    return _table_locks(_parse(text))


def read_lock(text: str) -> Lock:
    """What `text` locks, as far as its SQL says: the tables it names (a new foreign key's target among them) in
    the strongest mode it takes on any. SQL pglast cannot read, or a DO block's body, locks nothing it knows of."""
    statements = _parse(text)
    locks = _table_locks(statements)
    return Lock(
        strongest(list(locks.values())),
        tuple(locks),
        concurrently=any(_concurrently(s) for s in statements),
        linked=any(_drops(s) for s in statements),
    )
