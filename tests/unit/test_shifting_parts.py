"""The pure parts of progressive shifting: the shift refusal in every phase, contract approval below 100%, the
schedule's options, the UI details and the CLI's durations and step lists."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from liveshift.cli.commands.shift import percent
from liveshift.cli.commands.start import duration, step_list
from liveshift.cli.render import console, headline, status_view
from liveshift.health import HealthCheck
from liveshift.lifecycle import Phase
from liveshift.workflows import details, requests
from liveshift.workflows.models import APPROVE, SHIFT, HealthStatus, MigrationOptions, MigrationStatus, ShareChange

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def status(**fields: object) -> MigrationStatus:
    base: dict[str, object] = {
        "workflow_id": "wf", "migration": "m", "target": "app", "schema_name": "public", "tables": ["users"],
        "phase": Phase.AWAITING_CONTRACT,
    }  # fmt: skip
    return MigrationStatus.model_validate(base | fields)


SHIFT_REFUSALS = {
    Phase.STARTING: "cannot shift: the migration has not cut over yet (phase starting)",
    Phase.EXPAND: "cannot shift: the migration has not cut over yet (phase expand)",
    Phase.BACKFILL: "cannot shift: the migration has not cut over yet (phase backfill)",
    Phase.VERIFY: "cannot shift: the migration has not cut over yet (phase verify)",
    Phase.AWAITING_CUTOVER: "cannot shift: the migration has not cut over yet (phase awaiting_cutover)",
    Phase.CUTOVER: "cannot shift: cutover is in progress (shift once the migration awaits contract)",
    Phase.AWAITING_CONTRACT: None,
    Phase.CONTRACT: "cannot shift: contract has begun (green has every client for good)",
    Phase.COMPLETE: "cannot shift: contract has begun (green has every client for good)",
    Phase.ROLLING_BACK: "cannot shift: the migration is rolling back",
    Phase.ROLLED_BACK: "cannot shift: the migration is rolled back",
    Phase.FAILED: "cannot shift: the migration is failed",
}


@pytest.mark.parametrize("phase", list(Phase))
def test_shift_only_between_cutover_and_contract(phase: Phase) -> None:
    assert requests.refusal(SHIFT, status(phase=phase)) == SHIFT_REFUSALS[phase]
    assert requests.refusal(SHIFT, status(phase=phase, paused=phase in requests.PAUSE_IN)) == SHIFT_REFUSALS[phase]


def test_shift_once_cutover_applied_its_share_while_a_pause_holds_it_there() -> None:
    assert requests.refusal(SHIFT, status(phase=Phase.CUTOVER, paused=True, green_percent=10)) is None


def test_contract_approval_needs_100_percent() -> None:
    waiting = {"waiting_for": "contract"}
    below = "contract needs 100% of clients on green; green has 99% (liveshift shift 100)"
    assert requests.refusal(APPROVE, status(green_percent=99, **waiting), "contract") == below
    assert requests.refusal(APPROVE, status(green_percent=100, **waiting), "contract") is None
    assert requests.refusal_of_approval(status(green_percent=10, **waiting), "contract", needs_full_share=False) is None
    cutover = status(phase=Phase.AWAITING_CUTOVER, waiting_for="cutover")
    assert requests.refusal(APPROVE, cutover, "cutover") is None


SQL = HealthCheck(kind="sql", query="SELECT true")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"canary_steps": [25, 5], "step_seconds": 1}, "percentages 1..100, strictly increasing"),
        ({"canary_steps": [5, 5, 100], "step_seconds": 1}, "percentages 1..100, strictly increasing"),
        ({"canary_steps": [0, 100], "step_seconds": 1}, "percentages 1..100, strictly increasing"),
        ({"canary_steps": [5, 101], "step_seconds": 1}, "percentages 1..100, strictly increasing"),
        ({"canary_steps": [5, 100]}, "canary_steps and step_seconds go together"),
        ({"step_seconds": 5}, "canary_steps and step_seconds go together"),
        ({"health": SQL}, "a health check gates scheduled steps: give canary_steps too"),
        ({"canary_steps": [5], "step_seconds": 1, "cutover_percent": 5}, "canary_steps replaces cutover_percent"),
    ],
)
def test_schedule_options_are_whole(options: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        MigrationOptions.model_validate(options)


def test_schedule_options_round_trip_as_payloads() -> None:
    """What the workflow receives: every field set (the validator must not depend on which were given)."""
    options = MigrationOptions(canary_steps=[5, 25, 100], step_seconds=60, health=SQL, on_unhealthy="rollback")
    assert MigrationOptions.model_validate_json(options.model_dump_json()) == options


def test_details_show_greens_share_and_the_failing_health_value() -> None:
    s = status(
        green_percent=0,
        waiting_for="contract",
        schedule="stopped: health check failed (0.31)",
        shifts=[ShareChange(percent=10, at=NOW, by="schedule"), ShareChange(percent=0, at=NOW, by="health check")],
        health=HealthStatus(healthy=False, value="0.31", at=NOW, checks=4, failing="0.31"),
    )
    text = details.render(s)
    assert "green has **0%** of clients; steps: stopped: health check failed (0.31)" in text
    assert "health check: **unhealthy** (`0.31`, 4 checks)" in text
    assert "stopped on the failing value `0.31`: green is back at 0%" in text


def test_cli_durations_step_lists_and_percentages() -> None:
    assert [duration(v) for v in ("90", "90s", "10m", "1h", "0.5s")] == [90, 90, 600, 3600, 0.5]
    for bad in ("10x", "m", "-1m", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)
    assert step_list("5,25,50,100") == [5, 25, 50, 100]
    with pytest.raises(argparse.ArgumentTypeError, match="comma-separated percentages"):
        step_list("5;25")
    assert percent("0") == 0 and percent("100") == 100
    with pytest.raises(argparse.ArgumentTypeError, match=r"PERCENT 101: the share is 0\.\.100"):
        percent("101")


def test_status_view_shows_the_share_its_history_the_steps_and_what_to_do_next() -> None:
    s = status(
        green_percent=25,
        waiting_for="contract",
        schedule="taken over by the operator",
        shifts=[ShareChange(percent=5, at=NOW, by="schedule"), ShareChange(percent=25, at=NOW, by="operator")],
        health=HealthStatus(healthy=True, value="1", at=NOW, checks=3),
    )
    out = io.StringIO()
    console(out).print(status_view(s))
    text = out.getvalue()
    assert "green share: 25%  [5% 10:00:00 (schedule), 25% 10:00:00 (operator)]" in text
    assert "steps: taken over by the operator" in text and "health: healthy (1) at 10:00:00, 3 checks" in text
    assert "next: liveshift shift 100 wf, then approve contract" in text
    assert "green 25%" in headline(s).plain
    full = s.model_copy(update={"green_percent": 100})
    out = io.StringIO()
    console(out).print(status_view(full))
    assert "next: liveshift approve contract wf" in out.getvalue()
