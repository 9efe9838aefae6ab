"""The lifecycle: one state machine from which the engine's checks, the refusals and the metrics derive."""

from __future__ import annotations

import itertools

import pytest

from liveshift import lifecycle, metrics
from liveshift.lifecycle import FORWARD, IN_FLIGHT, PAUSE_IN, ROLLBACK_FROM, TERMINAL, TRANSITIONS, Phase, Status


def test_the_forward_path_is_a_walk_of_the_transitions() -> None:
    for current, following in itertools.pairwise(FORWARD):
        assert lifecycle.can_enter(current, following), (current, following)
    assert lifecycle.can_enter(Phase.VERIFY, Phase.CUTOVER)  # auto_cutover skips the gate
    assert not lifecycle.can_enter(Phase.BACKFILL, Phase.CUTOVER)
    assert set(TRANSITIONS) == set(Phase)


def test_rollback_and_pause_apply_until_contract() -> None:
    before_contract = set(FORWARD[: FORWARD.index(Phase.CONTRACT)])
    assert ROLLBACK_FROM == PAUSE_IN == before_contract
    assert {Phase.COMPLETE, Phase.ROLLED_BACK, Phase.FAILED} == TERMINAL
    assert all(TRANSITIONS[p] <= {Phase.ROLLED_BACK} for p in TERMINAL | {Phase.ROLLING_BACK})


def test_in_flight_statuses() -> None:
    assert set(IN_FLIGHT) == set(Status) - {Status.COMPLETE, Status.ROLLED_BACK}
    assert Status.CONTRACTING not in lifecycle.ROLLBACK_STATUSES
    assert set(IN_FLIGHT) - {Status.CONTRACTING} == lifecycle.ROLLBACK_STATUSES


@pytest.mark.parametrize(
    ("action", "statuses"),
    [
        (lifecycle.EXPAND, ("prepared", "expanded")),
        (lifecycle.VALIDATE_CONSTRAINTS, ("expanded", "backfilled", "verified")),
        (lifecycle.VERIFY, ("expanded", "backfilled", "verified", "cut_over")),
        (lifecycle.CUTOVER, ("verified", "cut_over")),
        (lifecycle.CONTRACT, ("cut_over", "contracting")),
    ],
    ids=lambda a: a.verb if isinstance(a, lifecycle.CoreAction) else None,
)
def test_each_core_action_runs_from_its_window_of_statuses(
    action: lifecycle.CoreAction, statuses: tuple[str, ...]
) -> None:
    assert action.statuses() == statuses


def test_the_phase_gauge_has_a_series_for_every_phase() -> None:
    assert tuple(p.value for p in Phase) == metrics.PHASES
    metrics.set_phase("m", Phase.VERIFY)
    values = {p: metrics.PHASE.labels(migration="m", phase=p)._value.get() for p in metrics.PHASES}
    assert values == {p: 1.0 if p == "verify" else 0.0 for p in metrics.PHASES}


def test_phases_are_the_strings_of_the_status_json() -> None:
    assert [p.value for p in Phase] == [
        "starting", "expand", "backfill", "verify", "awaiting_cutover", "cutover", "awaiting_contract", "contract",
        "complete", "rolling_back", "rolled_back", "failed",
    ]  # fmt: skip
    assert f"{Phase.AWAITING_CUTOVER}" == "awaiting_cutover" and Phase("backfill") is Phase.BACKFILL
