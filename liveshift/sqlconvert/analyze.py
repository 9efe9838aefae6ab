"""Per statement: the lock it takes, whether it rewrites or scans the table under that lock, and its hazards.

Each analyser returns a list of (Effect, hazard codes), one per ALTER TABLE sub-command or one for the
statement. Nothing here needs a database: what depends on the live catalog (is a type change binary
coercible? is the table empty?) is reported as the statement can do it at worst.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType

from liveshift.sqlconvert.locks import ORDER, UNKNOWN, Effect
from liveshift.sqlconvert.sqltext import is_volatile, type_name

Finding = tuple[Effect, list[str]]
AE = "ACCESS EXCLUSIVE"
SUE = "SHARE UPDATE EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SERIALS = {"smallserial", "serial", "serial2", "serial4", "bigserial", "serial8"}


def _rel(node: ast.RangeVar | None) -> str:
    if node is None:
        return "?"
    return f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname


def _constraints(col: ast.ColumnDef) -> list[ast.Constraint]:
    return list(col.constraints or ())


def _default_of(col: ast.ColumnDef) -> Any:
    for c in _constraints(col):
        if c.contype == ConstrType.CONSTR_DEFAULT:
            return c.raw_expr
    return col.raw_default


def fills_per_row(col: ast.ColumnDef) -> bool:
    """serial, identity, stored generated or a volatile default: every existing row needs its own value."""
    if type_name(col.typeName).lower() in SERIALS:
        return True
    kinds = {c.contype for c in _constraints(col)}
    if kinds & {ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}:
        return True
    default = _default_of(col)
    return default is not None and is_volatile(default)


def _add_column(table: str, col: ast.ColumnDef) -> list[Finding]:
    kinds = {c.contype for c in _constraints(col)}
    per_row = fills_per_row(col)
    codes: list[str] = ["adding-field-with-default"] if per_row else []
    not_null = col.is_not_null or ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds
    if not_null and _default_of(col) is None and not per_row:
        codes.append("adding-required-field")
    found: list[Finding] = [(Effect(lock=AE, tables=(table,), rewrites=per_row), codes)]
    for c in _constraints(col):
        found += _constraint(table, c, inline=True)
    return found


def _constraint(table: str, c: ast.Constraint, inline: bool = False) -> list[Finding]:
    validated = not c.skip_validation
    kind = c.contype
    if kind == ConstrType.CONSTR_CHECK:
        return [
            (Effect(lock=AE, tables=(table,), scans=validated), ["constraint-missing-not-valid"] if validated else [])
        ]
    if kind == ConstrType.CONSTR_FOREIGN:
        tables = (table, _rel(c.pktable))
        codes = ["adding-foreign-key-constraint"] if validated else []
        if validated and not inline:
            codes.append("constraint-missing-not-valid")
        return [(Effect(lock=SRE, tables=tables, scans=validated), codes)]
    if kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
        builds = c.indexname is None
        code = "disallowed-unique-constraint" if kind == ConstrType.CONSTR_UNIQUE else "adding-serial-primary-key-field"
        return [(Effect(lock=AE, tables=(table,), scans=builds), [code] if builds else [])]
    if kind == ConstrType.CONSTR_EXCLUSION:
        return [(Effect(lock=AE, tables=(table,), scans=True), ["adding-exclusion-constraint"])]
    return []  # NOT NULL, DEFAULT, identity, generated: part of the column


_REWRITES = {AlterTableType.AT_SetTableSpace, AlterTableType.AT_SetLogged, AlterTableType.AT_SetUnLogged}
_REWRITES |= {AlterTableType.AT_SetAccessMethod}
_SHARE_UPDATE = {AlterTableType.AT_SetStatistics, AlterTableType.AT_ValidateConstraint, AlterTableType.AT_SetRelOptions}
_SHARE_UPDATE |= {AlterTableType.AT_ResetRelOptions, AlterTableType.AT_ClusterOn, AlterTableType.AT_DropCluster}
_CATALOG_ONLY = {
    AlterTableType.AT_DropColumn: ["ban-drop-column"],
    AlterTableType.AT_DropNotNull: ["ban-drop-not-null"],
    AlterTableType.AT_DropConstraint: ["ban-drop-constraint"],
}


def _alter_cmd(table: str, cmd: ast.AlterTableCmd) -> list[Finding]:
    sub = cmd.subtype
    if sub == AlterTableType.AT_AddColumn:
        return _add_column(table, cmd.def_)
    if sub == AlterTableType.AT_AddConstraint:
        return _constraint(table, cmd.def_)
    if sub == AlterTableType.AT_AlterColumnType:
        return [(Effect(lock=AE, tables=(table,), rewrites=True), ["changing-column-type"])]
    if sub == AlterTableType.AT_SetNotNull:
        return [(Effect(lock=AE, tables=(table,), scans=True), ["adding-not-nullable-field"])]
    if sub == AlterTableType.AT_ColumnDefault:
        return [(Effect(lock=AE, tables=(table,)), [] if cmd.def_ is not None else ["ban-drop-default"])]
    if sub in _CATALOG_ONLY:
        return [(Effect(lock=AE, tables=(table,)), list(_CATALOG_ONLY[sub]))]
    if sub in _REWRITES:
        return [(Effect(lock=AE, tables=(table,), rewrites=True), ["table-rewrite"])]
    if sub in _SHARE_UPDATE:
        return [(Effect(lock=SUE, tables=(table,), scans=sub == AlterTableType.AT_ValidateConstraint), [])]
    return [(Effect(lock=AE, tables=(table,)), [])]  # the default for ALTER TABLE forms not modelled here


def _alter_table(node: ast.AlterTableStmt) -> list[Finding]:
    table = _rel(node.relation)
    return [found for cmd in node.cmds or () for found in _alter_cmd(table, cmd)]


def _rename(node: ast.RenameStmt) -> list[Finding]:
    codes = {ObjectType.OBJECT_COLUMN: ["renaming-column"], ObjectType.OBJECT_TABLE: ["renaming-table"]}
    return [(Effect(lock=AE, tables=(_rel(node.relation),)), codes.get(node.renameType, []))]


def _index(node: ast.IndexStmt) -> list[Finding]:
    table = _rel(node.relation)
    if node.concurrent:
        return [(Effect(lock=SUE, tables=(table,), scans=True), [])]
    return [(Effect(lock="SHARE", tables=(table,), scans=True), ["require-concurrent-index-creation"])]


def _drop(node: ast.DropStmt) -> list[Finding]:
    names = tuple(".".join(part.sval for part in obj) for obj in node.objects or ())
    if node.removeType == ObjectType.OBJECT_INDEX:
        if node.concurrent:
            return [(Effect(lock=SUE, tables=names), [])]
        return [(Effect(lock=AE, tables=names), ["require-concurrent-index-deletion"])]
    if node.removeType == ObjectType.OBJECT_TABLE:
        return [(Effect(lock=AE, tables=names), ["ban-drop-table"])]
    return [(Effect(lock=AE, tables=names), [])]


def _create_table(node: ast.CreateStmt) -> list[Finding]:
    found: list[Finding] = [(Effect(lock=AE, tables=(_rel(node.relation),), existing=False), [])]
    constraints = [c for col in node.tableElts or () if isinstance(col, ast.ColumnDef) for c in _constraints(col)]
    constraints += [c for c in node.tableElts or () if isinstance(c, ast.Constraint)]
    for c in constraints:
        if c.contype == ConstrType.CONSTR_FOREIGN:  # the referenced table, briefly: the new one is empty
            found.append((Effect(lock=SRE, tables=(_rel(c.pktable),)), []))
    return found


def _reindex(node: ast.ReindexStmt) -> list[Finding]:
    concurrent = any(p.defname == "concurrently" for p in node.params or ())
    target = (_rel(node.relation) if node.relation else str(node.name),)
    if concurrent:
        return [(Effect(lock=SUE, tables=target, scans=True), [])]
    return [(Effect(lock=AE, tables=target, scans=True), ["require-concurrent-reindex"])]


def _vacuum(node: ast.VacuumStmt) -> list[Finding]:
    tables = tuple(_rel(r.relation) for r in node.rels or ())
    full = node.is_vacuumcmd and any(o.defname == "full" for o in node.options or ())
    if full:
        return [(Effect(lock=AE, tables=tables, rewrites=True), ["table-rewrite"])]
    return [(Effect(lock=SUE, tables=tables, scans=True), [])]


def _truncate(node: ast.TruncateStmt) -> list[Finding]:
    codes = ["ban-truncate-cascade"] if node.behavior == DropBehavior.DROP_CASCADE else []
    return [(Effect(lock=AE, tables=tuple(_rel(r) for r in node.relations)), codes)]


def _refresh(node: ast.RefreshMatViewStmt) -> list[Finding]:
    table = (_rel(node.relation),)
    if node.concurrent:
        return [(Effect(lock="EXCLUSIVE", tables=table, scans=True), [])]
    return [(Effect(lock=AE, tables=table, scans=True), ["refresh-materialized-view"])]


def _lock(node: ast.LockStmt) -> list[Finding]:
    return [(Effect(lock=ORDER[node.mode], tables=tuple(_rel(r) for r in node.relations)), [])]


def _dml(node: Any) -> list[Finding]:
    # row locks only; UPDATE and DELETE read the table (a long statement when they touch every row)
    reads = isinstance(node, ast.UpdateStmt | ast.DeleteStmt)
    return [(Effect(lock="ROW EXCLUSIVE", tables=(_rel(node.relation),), scans=reads), [])]


ANALYSERS: dict[type, Callable[[Any], list[Finding]]] = {
    ast.AlterTableStmt: _alter_table,
    ast.RenameStmt: _rename,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.CreateStmt: _create_table,
    ast.ReindexStmt: _reindex,
    ast.VacuumStmt: _vacuum,
    ast.ClusterStmt: lambda n: [(Effect(lock=AE, tables=(_rel(n.relation),), rewrites=True), ["table-rewrite"])],
    ast.TruncateStmt: _truncate,
    ast.RefreshMatViewStmt: _refresh,
    ast.LockStmt: _lock,
    ast.DropdbStmt: lambda n: [(Effect(lock="none", tables=(), existing=False), ["ban-drop-database"])],
    ast.UpdateStmt: _dml,
    ast.DeleteStmt: _dml,
    ast.InsertStmt: _dml,
}

# statements that take no lock an application would notice
QUIET = (ast.VariableSetStmt, ast.TransactionStmt, ast.SelectStmt, ast.ViewStmt, ast.CommentStmt)
QUIET += (ast.CreateTableAsStmt, ast.CreateFunctionStmt, ast.CreateSchemaStmt, ast.CreateSeqStmt, ast.GrantStmt)


def analyse(node: Any) -> list[Finding]:
    analyser = ANALYSERS.get(type(node))
    if analyser is not None:
        return analyser(node)
    if isinstance(node, QUIET):
        return [(Effect(lock="none", existing=False), [])]
    return [(Effect(lock=UNKNOWN, existing=False), [])]
