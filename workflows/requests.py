"""Operator requests (pause, resume, rollback, approve, cancel): when each is refused, and why.

Pure functions of the status, shared by the Update validators (the caller gets the refusal) and the
signals of the same names (the status notes that it was ignored).
"""

from __future__ import annotations

from liveshift.lifecycle import IRREVERSIBLE, PAUSE_IN, ROLLBACK_FROM, Phase
from workflows.models import APPROVE, PAUSE, RESUME, ROLLBACK, MigrationStatus


def refusal_of_pause(status: MigrationStatus) -> str | None:
    if status.phase not in PAUSE_IN:
        return f"cannot pause: the migration is in phase {status.phase}"
    if status.paused:
        return "already paused"
    return None


def refusal_of_resume(status: MigrationStatus) -> str | None:
    return None if status.paused else f"not paused (phase {status.phase})"


def refusal_of_rollback(status: MigrationStatus) -> str | None:
    if status.phase in IRREVERSIBLE:
        return "cannot roll back: contract has begun (it is irreversible)"
    if status.phase not in ROLLBACK_FROM:
        return f"cannot roll back: the migration is already {status.phase.replace('_', ' ')}"
    return None


def refusal_of_approval(status: MigrationStatus, gate: str) -> str | None:
    if status.waiting_for != gate:
        waiting = f"the {status.waiting_for} gate is" if status.waiting_for else "no gate is"
        return f"the {gate} gate is not waiting for approval ({waiting} waiting; phase {status.phase})"
    return None


def refusal(request: str, status: MigrationStatus, gate: str = "") -> str | None:
    """Why `request` (PAUSE, RESUME, ROLLBACK, APPROVE of `gate`) cannot apply now; None when it can."""
    if request == PAUSE:
        return refusal_of_pause(status)
    if request == RESUME:
        return refusal_of_resume(status)
    if request == ROLLBACK:
        return refusal_of_rollback(status)
    if request == APPROVE:
        return refusal_of_approval(status, gate)
    raise ValueError(f"unknown request {request!r}")


def refusal_of_cancellation(status: MigrationStatus) -> str | None:
    """A Temporal cancellation is a rollback request, except once contract has begun or the migration failed
    (one arriving while it rolls back joins that rollback)."""
    if status.phase in (Phase.ROLLING_BACK, Phase.ROLLED_BACK):
        return None
    return refusal_of_rollback(status)
