"""`liveshift lint`: per statement the lock it takes, whether it rewrites or scans under it, and its hazards,
each naming the liveshift operation that makes the change safely."""

from __future__ import annotations

import copy
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, TransactionStmtKind, VariableSetKind
from pydantic import BaseModel

from liveshift.sqlconvert.analyze import analyse
from liveshift.sqlconvert.hazards import HAZARDS
from liveshift.sqlconvert.knowledge import Knowledge, relations_used
from liveshift.sqlconvert.locks import UNKNOWN, Effect, blocks, strongest
from liveshift.sqlconvert.scope import Finding, Scope
from liveshift.sqlconvert.statements import SqlInputError, Statement, read_sql, split_sql


class LintInternalError(SqlInputError):
    """lint itself failed on a statement (a bug): named by file, line and statement, exit 2 (not findings)."""


class LintFinding(BaseModel):
    file: str
    line: int
    code: str
    message: str
    safe: str


class RelationLock(BaseModel):
    relation: str
    mode: str
    index: bool = False  # an index's own lock (queries planned on its table wait for it)


class StatementReport(BaseModel):
    file: str
    line: int
    end_line: int
    statement: str  # its first line, as written
    lock: str
    tables: list[str]
    blocks: str  # what application traffic waits while the lock is held or queued
    rewrites: bool
    scans_under_lock: bool
    findings: list[LintFinding]
    locks: list[RelationLock] = []  # every relation's lock: partitions, referenced tables, indexes
    assumed: list[str] = []  # what the verdict assumed where the catalog was not known (--dsn reads it)


def _lock_timeout_change(node: Any) -> bool | None:
    """True/False when `node` sets lock_timeout to a bound / to none (0, RESET); None when it does not touch it."""
    if not isinstance(node, ast.VariableSetStmt) or node.name != "lock_timeout":
        return None
    if node.kind != VariableSetKind.VAR_SET_VALUE or not node.args:
        return False
    value = node.args[0].val
    text = str(getattr(value, "ival", getattr(value, "sval", ""))).strip()
    return text not in ("0", "", "0ms", "0s")


def _held_message(held: dict[str, tuple[str, int]]) -> str:
    taken = ", ".join(f"{lock} on {table} (line {line})" for table, (lock, line) in sorted(held.items()))
    return f"{HAZARDS['holding-lock-in-transaction'].message}: holding {taken}"


def _relation_locks(effects: list[Effect], k: Knowledge) -> list[RelationLock]:
    """The strongest lock per relation, but none on a relation this file created (nobody's traffic), even where
    the effect also reaches existing ones (DROP TABLE of a new table: its serial's sequence, the tables it
    references)."""
    strongest_of: dict[tuple[str, bool], str] = {}
    for e in effects:
        for name in e.tables:
            if not e.index and (info := k.table(name)) is not None and info.new:
                continue
            key = (name, e.index)
            strongest_of[key] = strongest([strongest_of.get(key, "none"), e.lock])
    return [RelationLock(relation=n, mode=m, index=i) for (n, i), m in sorted(strongest_of.items())]


def _sized(message: str, tables: list[str], k: Knowledge) -> str:
    """With --dsn: the row estimate of the largest table involved, so a reader can rank the hazards."""
    rows = [info.rows for t in tables if (info := k.table(t)) is not None and info.rows is not None]
    return f"{message} (~{int(max(rows)):,} rows)" if rows else message


def _report(
    stmt: Statement, effects: list[Effect], codes: list[str], held: dict[str, tuple[str, int]], scope: Scope
) -> StatementReport:
    touched = [e for e in effects if e.existing and not e.index]
    lock = (
        strongest([e.lock for e in touched])
        if touched
        else ("none" if all(e.lock != UNKNOWN for e in effects) else UNKNOWN)
    )
    tables = sorted({t for e in touched for t in e.tables})
    findings = [
        LintFinding(
            file=stmt.file,
            line=stmt.line,
            code=code,
            message=_held_message(held)
            if code == "holding-lock-in-transaction"
            else _sized(HAZARDS[code].message, tables, scope.k),
            safe=HAZARDS[code].safe,
        )
        for code in dict.fromkeys(codes)
    ]
    return StatementReport(
        file=stmt.file,
        line=stmt.line,
        end_line=stmt.end_line,
        statement=stmt.text.splitlines()[0] if stmt.text else "",
        lock=lock,
        tables=tables,
        blocks=blocks(lock) if lock != UNKNOWN else "unknown",
        rewrites=any(e.rewrites for e in touched),
        scans_under_lock=any(e.scans and e.blocks != "nothing" for e in touched),
        findings=findings,
        # every lock but those on what this file created (an empty table's are taken all the same)
        locks=_relation_locks(
            [e for e in effects if e.existing or (e.tables and not e.made and e.lock != UNKNOWN)], scope.k
        ),
        assumed=list(scope.notes),
    )


class _Transaction:
    """Locks taken inside BEGIN … COMMIT are held until its end, across every statement after them."""

    def __init__(self) -> None:
        self.open = False
        self.held: dict[str, tuple[str, int]] = {}  # table -> (blocking lock, line that took it)
        self.not_valid: set[str] = set()  # constraints added NOT VALID in this transaction

    def step(self, stmt: Statement, effects: list[Effect]) -> list[str]:
        node = stmt.node
        if isinstance(node, ast.TransactionStmt):
            self.open = node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)
            self.held, self.not_valid = {}, set()
            return []
        if not self.open:
            return []
        long = any(e.existing and (e.rewrites or e.scans) for e in effects)
        codes = ["holding-lock-in-transaction"] if long and self.held else []
        codes += self._validated_too_soon(node)
        for effect in effects:
            if effect.blocks != "nothing":
                for table in effect.tables:
                    self.held.setdefault(table, (effect.lock, stmt.line))
        return codes

    def _validated_too_soon(self, node: Any) -> list[str]:
        """VALIDATE of a constraint added NOT VALID in the same transaction: validated under the ADD's lock."""
        codes = []
        for cmd in node.cmds or () if isinstance(node, ast.AlterTableStmt) else ():
            if cmd.subtype == AlterTableType.AT_AddConstraint and cmd.def_.skip_validation and cmd.def_.conname:
                self.not_valid.add(cmd.def_.conname)
            elif cmd.subtype == AlterTableType.AT_ValidateConstraint and cmd.name in self.not_valid:
                codes.append("constraint-missing-not-valid")
        return codes


def _analyse(stmt: Statement, scope: Scope) -> list[Finding]:
    scope.notes = []
    try:
        return analyse(stmt.node, scope)
    except Exception as exc:  # a bug in lint: exit 2 naming the statement, never 1 (findings)
        first = stmt.text.splitlines()[0] if stmt.text else stmt.kind
        raise LintInternalError(
            f"internal error in liveshift lint on `{first}`: {type(exc).__name__}: {exc}",
            file=stmt.file,
            line=stmt.line,
        ) from exc


def lint_statements(statements: list[Statement], knowledge: Knowledge | None = None) -> list[StatementReport]:
    """Every statement's report. `knowledge`: the live catalog (--dsn); the file's own statements add to it."""
    scope = Scope(k=copy.deepcopy(knowledge) if knowledge is not None else Knowledge())
    scope.k.named |= {name for stmt in statements for name in relations_used(stmt.node)[0]}
    reports = []
    bounded = False  # a lock_timeout is in force
    warned = False  # the missing lock_timeout is reported once per file, at the first statement it matters for
    transaction = _Transaction()
    for stmt in statements:
        change = _lock_timeout_change(stmt.node)
        if change is not None:
            bounded = change
        found = _analyse(stmt, scope)
        effects = [effect for effect, _ in found]
        codes = [code for _, cs in found for code in cs]
        held = dict(transaction.held)
        codes += transaction.step(stmt, effects)
        if not bounded and not warned and any(e.blocks != "nothing" for e in effects):
            codes.append("require-lock-timeout")
            warned = True
        reports.append(_report(stmt, effects, codes, held, scope))
    return reports


def learn_schema(path: str, knowledge: Knowledge | None = None) -> Knowledge:
    """What a schema file (CREATE statements: a pg_dump --schema-only, Rails' db/structure.sql, a test's
    setup) tells of the tables migrations run against: column types, NOT NULLs, indexes, partitions and
    DEFAULT partitions, domains, foreign keys. Its tables exist and carry traffic: none counts as new."""
    scope = Scope(k=copy.deepcopy(knowledge) if knowledge is not None else Knowledge())
    for stmt in read_sql(path):
        _analyse(stmt, scope)
    for table in scope.k.tables.values():
        table.new = False
    scope.k.live = True  # what the file does not declare does not exist, as in a live catalog
    return scope.k


def lint_text(text: str, file: str, knowledge: Knowledge | None = None) -> list[StatementReport]:
    return lint_statements(split_sql(text, file), knowledge)


def lint_file(path: str, knowledge: Knowledge | None = None) -> list[StatementReport]:
    return lint_statements(read_sql(path), knowledge)
