"""One lock acquisition per table: consecutive catalog-only ACCESS EXCLUSIVE steps on a table become one.

Each brief ACCESS EXCLUSIVE lock is a moment the application meets a closed door; five in a row on one
table (hidden columns, the row marker, NOT VALID checks; drops and renames at contract) are five waits
for old transactions to end and five queues. Merged into one transaction they are one. Only consecutive
steps merge, so the order of everything stays as planned. Pure: no database access.
"""

from __future__ import annotations

from psycopg import sql

from liveshift.ddl.locks import ACCESS_EXCLUSIVE, Lock, Table
from liveshift.ddl.steps import Step


def _group_key(step: Step) -> Table | None:
    """The one table a step locks, if it may share a transaction with its neighbours on that table."""
    lock = step.lock
    if lock is None or not step.transactional or step.index_to_clean is not None or step.parts:
        return None
    # catalog only (no scan, no rewrite): ACCESS EXCLUSIVE as every statement of the step takes it, not only one
    # of them (the triggers' DROP TRIGGER)
    if lock.mode != ACCESS_EXCLUSIVE or lock.by is not None or len(lock.tables) != 1:
        return None
    return lock.tables[0]


def merged(parts: list[Step]) -> Step:
    """One step running `parts` in order in one transaction, each still guarded by its own skip_if.

    The group is skipped when every part is (all guards true): a part without a guard always runs, so
    then the group has none either.
    """
    if len(parts) == 1:
        return parts[0]
    locks = [p.lock for p in parts if p.lock is not None]
    tables = locks[0].tables  # the one table every part locks (_group_key)
    guards = [p.skip_if for p in parts]
    skip_if = None
    if all(g is not None for g in guards):
        skip_if = sql.SQL("SELECT {}").format(
            sql.SQL(" AND ").join(sql.SQL("coalesce(({}), false)").format(g) for g in guards if g is not None)
        )
    return Step(
        f"on {'.'.join(p for p in tables[0] if p)}, under one lock: " + "; ".join(p.description for p in parts),
        sql.SQL(";\n").join(p.statement for p in parts),
        lock=Lock(ACCESS_EXCLUSIVE, tables, linked=any(lock.linked for lock in locks)),
        skip_if=skip_if,
        parts=tuple(parts),
    )


def group_steps(steps: list[Step]) -> list[Step]:
    """`steps` with each run of consecutive groupable steps on the same table merged into one."""
    out: list[Step] = []
    run: list[Step] = []
    key: Table | None = None
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
