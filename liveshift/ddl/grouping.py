"""One lock acquisition per table: consecutive catalog-only ACCESS EXCLUSIVE steps on a table become one.

Each brief ACCESS EXCLUSIVE lock is a moment the application meets a closed door; five in a row on one
table (hidden columns, the row marker, NOT VALID checks; drops and renames at contract) are five waits
for old transactions to end and five queues. Merged into one transaction they are one. Only consecutive
steps merge, so the order of everything stays as planned. Pure: no database access.
"""

from __future__ import annotations

from psycopg import sql

from liveshift.ddl.locks import ACCESS_EXCLUSIVE, step_locks
from liveshift.ddl.steps import ACCESS_EXCLUSIVE_BRIEF, Step


def _group_key(step: Step) -> tuple[str, str] | None:
    """The one table a step locks, if it may share a transaction with its neighbours on that table."""
    if not step.transactional or step.unchecked or step.index_to_clean is not None or step.parts:
        return None
    if step.lock != ACCESS_EXCLUSIVE_BRIEF:  # the label says: catalog only, no scan, no rewrite
        return None
    tables, mode = step_locks(step)
    return tables[0] if len(tables) == 1 and mode == ACCESS_EXCLUSIVE else None


def merged(parts: list[Step]) -> Step:
    """One step running `parts` in order in one transaction, each still guarded by its own skip_if.

    The group is skipped when every part is (all guards true): a part without a guard always runs, so
    then the group has none either.
    """
    if len(parts) == 1:
        return parts[0]
    table = ".".join(p for p in step_locks(parts[0])[0][0] if p)
    guards = [p.skip_if for p in parts]
    skip_if = None
    if all(g is not None for g in guards):
        skip_if = sql.SQL("SELECT {}").format(
            sql.SQL(" AND ").join(sql.SQL("coalesce(({}), false)").format(g) for g in guards if g is not None)
        )
    return Step(
        f"on {table}, under one lock: " + "; ".join(p.description for p in parts),
        sql.SQL(";\n").join(p.statement for p in parts),
        lock=ACCESS_EXCLUSIVE_BRIEF,
        skip_if=skip_if,
        tables=step_locks(parts[0])[0],
        lock_mode=ACCESS_EXCLUSIVE,
        parts=tuple(parts),
    )


def group_steps(steps: list[Step]) -> list[Step]:
    """`steps` with each run of consecutive groupable steps on the same table merged into one."""
    out: list[Step] = []
    run: list[Step] = []
    key: tuple[str, str] | None = None
    for step in steps:
        this = _group_key(step)
        if run and (this is None or this != key):
            out.append(merged(run))
            run = []
        if this is None:
            out.append(step)
            continue
        run.append(step)
        key = this
    if run:
        out.append(merged(run))
    return out
