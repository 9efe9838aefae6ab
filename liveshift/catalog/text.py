"""Reading the SQL text PostgreSQL prints for existing objects (pg_get_indexdef, pg_get_constraintdef, the
expression of a generated column or a partial index), parsed with pglast.

A column swap rebuilds what hangs on the old column from this text; whatever these functions cannot read
as a plain, faithfully rebuildable form they answer with None (or, for `mentions`, a conservative yes),
and the swap refuses up front.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.enums import ConstrType
from pglast.parser import ParseError
from pglast.visitors import Visitor

from liveshift.catalog import Constraint

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


class _ColumnNames(Visitor):
    """Every column a statement names: column references and index key columns."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
        last = node.fields[-1]
        if isinstance(last, ast.String):
            self.names.add(last.sval)

    def visit_IndexElem(self, ancestors: object, node: ast.IndexElem) -> None:
        if node.name:
            self.names.add(node.name)


def _statement(text: str) -> ast.Node | None:
    try:
        statements = parse_sql(text)
    except ParseError:
        return None
    return statements[0].stmt if len(statements) == 1 else None


def _constraint(definition: str) -> ast.Constraint | None:
    """A constraint as pg_get_constraintdef prints it, parsed inside the ALTER TABLE it could come from."""
    statement = _statement(f"ALTER TABLE t ADD CONSTRAINT c {definition}")
    if not isinstance(statement, ast.AlterTableStmt) or len(statement.cmds) != 1:
        return None
    constraint = statement.cmds[0].def_
    return constraint if isinstance(constraint, ast.Constraint) else None


def mentions(text: str | None, name: str) -> bool:
    """Whether catalog SQL text (an expression or a CREATE INDEX) refers to column `name`; text that does not
    parse is taken to refer to it (a false yes only refuses)."""
    if not text:
        return False
    statement = _statement(text if text.startswith("CREATE ") else f"SELECT ({text})")
    if statement is None:
        return True
    visitor = _ColumnNames()
    visitor(statement)
    return name in visitor.names


def foreign_key_options(constraint: Constraint) -> str | None:
    """The options of a foreign key (MATCH FULL, ON UPDATE/DELETE, DEFERRABLE) as PostgreSQL prints them, ''
    for none; None for what a rebuild would not reproduce (MATCH PARTIAL, SET NULL (columns), NOT ENFORCED)."""
    parsed = _constraint(constraint.definition)
    if parsed is None or parsed.contype != ConstrType.CONSTR_FOREIGN or parsed.fk_del_set_cols:
        return None
    if not parsed.is_enforced:
        return None
    if parsed.fk_matchtype not in ("s", "f") or parsed.fk_upd_action not in _ACTIONS:
        return None
    if parsed.fk_del_action not in _ACTIONS:
        return None
    options = " MATCH FULL" if parsed.fk_matchtype == "f" else ""
    if parsed.fk_upd_action != "a":
        options += f" ON UPDATE {_ACTIONS[parsed.fk_upd_action]}"
    if parsed.fk_del_action != "a":
        options += f" ON DELETE {_ACTIONS[parsed.fk_del_action]}"
    if parsed.deferrable:
        options += " DEFERRABLE"
    if parsed.initdeferred:
        options += " INITIALLY DEFERRED"
    return options


def check_expression(constraint: Constraint) -> str | None:
    """`CHECK ((a > 0))` -> `(a > 0)`, the expression as PostgreSQL printed it; None for NO INHERIT and the
    like."""
    parsed = _constraint(constraint.definition)
    if parsed is None or parsed.contype != ConstrType.CONSTR_CHECK or parsed.is_no_inherit or not parsed.is_enforced:
        return None
    definition = constraint.definition.removesuffix(" NOT VALID")
    if not definition.startswith("CHECK (") or not definition.endswith(")"):
        return None
    return definition[len("CHECK ") :]
