"""Operator requests (pause, resume, rollback, approve, shift, cancel): when each is refused, and why.

Pure functions of the status, shared by the Update validators (the caller gets the refusal) and the
signals of the same names (the status notes that it was ignored).
"""

from __future__ import annotations

from liveshift.lifecycle import FORWARD, IRREVERSIBLE, PAUSE_IN, ROLLBACK_FROM, Phase
from liveshift.workflows.models import APPROVE, PAUSE, RESUME, ROLLBACK, SHIFT, MigrationStatus


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


def refusal_of_approval(status: MigrationStatus, gate: str, needs_full_share: bool = True) -> str | None:
    if status.waiting_for != gate:
        waiting = f"the {status.waiting_for} gate is" if status.waiting_for else "no gate is"
        return f"the {gate} gate is not waiting for approval ({waiting} waiting; phase {status.phase})"
    share = status.green_percent
    if needs_full_share and gate == "contract" and share is not None and share < 100:
        return f"contract needs 100% of clients on green; green has {share}% (liveshift shift 100)"
    return None


# phases before cutover: nothing to shift yet
BEFORE_CUTOVER = FORWARD[: FORWARD.index(Phase.CUTOVER)]


def refusal_of_shift(status: MigrationStatus) -> str | None:
    """Green's share moves between cutover and contract, in the awaiting_contract phase (schedule included)."""
    if status.phase == Phase.AWAITING_CONTRACT or (status.phase == Phase.CUTOVER and status.green_percent is not None):
        return None  # (in cutover once its share is applied: held there by a pause)
    if status.phase in BEFORE_CUTOVER:
        return f"cannot shift: the migration has not cut over yet (phase {status.phase})"
    if status.phase == Phase.CUTOVER:
        return "cannot shift: cutover is in progress (shift once the migration awaits contract)"
    if status.phase in IRREVERSIBLE:
        return "cannot shift: contract has begun (green has every client for good)"
    return f"cannot shift: the migration is {status.phase.replace('_', ' ')}"


def refusal(request: str, status: MigrationStatus, gate: str = "") -> str | None:
    """Why `request` (PAUSE, RESUME, ROLLBACK, APPROVE of `gate`, SHIFT) cannot apply now; None when it can."""
    if request == PAUSE:
        return refusal_of_pause(status)
    if request == RESUME:
        return refusal_of_resume(status)
    if request == ROLLBACK:
        return refusal_of_rollback(status)
    if request == APPROVE:
        return refusal_of_approval(status, gate)
    if request == SHIFT:
        return refusal_of_shift(status)
    raise ValueError(f"unknown request {request!r}")


def refusal_of_cancellation(status: MigrationStatus) -> str | None:
    """A Temporal cancellation is a rollback request, except once contract has begun or the migration failed
    (one arriving while it rolls back joins that rollback)."""
    if status.phase in (Phase.ROLLING_BACK, Phase.ROLLED_BACK):
        return None
    return refusal_of_rollback(status)
