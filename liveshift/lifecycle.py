"""The life of one migration, in one place: its phases, the moves between them, and its record's statuses.

The workflow walks the phases (`Phase`, the status query's `phase`, the `LiveshiftPhase` search attribute
and the phase gauge's label); the phase calls (phases.py) write the record's `Status` as each core action finishes. Both
are derived here: which phases accept a pause or a rollback, which record statuses each core action runs
from, which migrations are still in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    STARTING = "starting"
    EXPAND = "expand"
    BACKFILL = "backfill"
    VERIFY = "verify"
    AWAITING_CUTOVER = "awaiting_cutover"
    CUTOVER = "cutover"
    AWAITING_CONTRACT = "awaiting_contract"
    CONTRACT = "contract"
    COMPLETE = "complete"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


P = Phase
# where each phase may go next; every phase before contract may be rolled back
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    P.STARTING: frozenset({P.EXPAND, P.ROLLING_BACK, P.FAILED}),  # failed: bad input, found before anything ran
    P.EXPAND: frozenset({P.BACKFILL, P.ROLLING_BACK}),
    P.BACKFILL: frozenset({P.VERIFY, P.ROLLING_BACK}),
    P.VERIFY: frozenset({P.AWAITING_CUTOVER, P.CUTOVER, P.ROLLING_BACK}),  # cutover: auto_cutover
    P.AWAITING_CUTOVER: frozenset({P.CUTOVER, P.ROLLING_BACK}),
    P.CUTOVER: frozenset({P.AWAITING_CONTRACT, P.ROLLING_BACK}),
    P.AWAITING_CONTRACT: frozenset({P.CONTRACT, P.ROLLING_BACK}),
    P.CONTRACT: frozenset({P.COMPLETE, P.FAILED}),  # irreversible: no rollback once it has begun
    P.COMPLETE: frozenset(),
    P.ROLLING_BACK: frozenset({P.ROLLED_BACK}),
    P.ROLLED_BACK: frozenset(),
    P.FAILED: frozenset(),
}

# the forward path, in order (gates included)
FORWARD: tuple[Phase, ...] = (
    P.STARTING,
    P.EXPAND,
    P.BACKFILL,
    P.VERIFY,
    P.AWAITING_CUTOVER,
    P.CUTOVER,
    P.AWAITING_CONTRACT,
    P.CONTRACT,
    P.COMPLETE,
)
TERMINAL = frozenset(p for p, following in TRANSITIONS.items() if not following)
ROLLBACK_FROM = frozenset(p for p, following in TRANSITIONS.items() if P.ROLLING_BACK in following)
# a pause holds the forward path before its next phase: it applies exactly where that path can still be left
PAUSE_IN = ROLLBACK_FROM
# contract has begun: what it removed cannot be given back
IRREVERSIBLE = frozenset({P.CONTRACT, P.COMPLETE})


def can_enter(current: Phase, following: Phase) -> bool:
    return following in TRANSITIONS[current]


class Status(StrEnum):
    """The migration record's `status` column: what the core has done so far."""

    PREPARED = "prepared"
    EXPANDED = "expanded"
    BACKFILLED = "backfilled"  # backfilled and its constraints validated
    VERIFIED = "verified"
    CUT_OVER = "cut_over"
    CONTRACTING = "contracting"
    COMPLETE = "complete"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"


# the phase a migration whose record has this status is ready for
STATUS_PHASE: dict[Status, Phase] = {
    Status.PREPARED: P.EXPAND,
    Status.EXPANDED: P.BACKFILL,
    Status.BACKFILLED: P.VERIFY,
    Status.VERIFIED: P.AWAITING_CUTOVER,
    Status.CUT_OVER: P.AWAITING_CONTRACT,
    Status.CONTRACTING: P.CONTRACT,
    Status.COMPLETE: P.COMPLETE,
    Status.ROLLING_BACK: P.ROLLING_BACK,
    Status.ROLLED_BACK: P.ROLLED_BACK,
}
IN_FLIGHT: tuple[Status, ...] = tuple(s for s in Status if STATUS_PHASE[s] not in TERMINAL)
# a rollback may start (or, interrupted, run again) from these
ROLLBACK_STATUSES = frozenset(s for s in Status if STATUS_PHASE[s] in ROLLBACK_FROM | {P.ROLLING_BACK})


@dataclass(frozen=True)
class CoreAction:
    """A forward core call, and the window of record phases it runs from: from the phase it belongs to up to
    the furthest one a retried (or repeated) call may find its own result in."""

    verb: str  # "cannot {verb} migration ...: it is {status}"
    first: Phase
    last: Phase

    def allows(self, status: Status) -> bool:
        phase = STATUS_PHASE[status]
        return phase in FORWARD and FORWARD.index(self.first) <= FORWARD.index(phase) <= FORWARD.index(self.last)

    def statuses(self) -> tuple[Status, ...]:
        return tuple(s for s in Status if self.allows(s))


EXPAND = CoreAction("expand", P.EXPAND, P.BACKFILL)
VALIDATE_CONSTRAINTS = CoreAction("validate constraints of", P.BACKFILL, P.AWAITING_CUTOVER)
VERIFY = CoreAction("verify", P.BACKFILL, P.AWAITING_CONTRACT)  # verify may run again after cutover
CUTOVER = CoreAction("cut over", P.AWAITING_CUTOVER, P.AWAITING_CONTRACT)  # again: another canary percentage
CONTRACT = CoreAction("contract", P.AWAITING_CONTRACT, P.CONTRACT)
