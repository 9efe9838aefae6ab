"""The workflow's pure parts: progress per table and its ETA, the UI details, the refusals of requests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from liveshift.activities.payloads import ProgressReport
from liveshift.lifecycle import Phase
from liveshift.values import TableReport, VerifyReport
from liveshift.workflows import details, progress, requests
from liveshift.workflows.models import APPROVE, PAUSE, RESUME, ROLLBACK, MigrationStatus, TablePlan


def report(table: str, partition: int, rows: int, done: bool = False, rate: float = 0.0, throttled: str | None = None):  # type: ignore[no-untyped-def]
    return ProgressReport(
        table=table, partition=partition, rows_done=rows, done=done, rows_per_second=rate, throttled=throttled
    )


def test_progress_sums_partitions_and_estimates_from_the_running_ones() -> None:
    plans = {"users": TablePlan(table="users", partitions=2, rows_total=1000)}
    reports = {
        ("users", 0): report("users", 0, 500, done=True, rate=999),
        ("users", 1): report("users", 1, 100, rate=50),
    }
    [users], throttled = progress.aggregate(plans, reports)
    assert (users.rows_done, users.rows_total, users.rows_per_second, users.partitions_done) == (600, 1000, 50, 1)
    assert users.eta_seconds == pytest.approx(8.0)  # 400 rows left at 50 rows/s
    assert throttled is None


def test_progress_total_never_below_done_and_eta_when_still() -> None:
    plan = TablePlan(table="t", partitions=2, rows_total=100)
    assert progress.table_progress(plan, [report("t", 0, 150)]).rows_total == 150
    assert progress.table_progress(plan, [report("t", 0, 10)]).eta_seconds is None  # nothing moves
    finished = [report("t", 0, 50, done=True), report("t", 1, 50, done=True)]
    assert progress.table_progress(plan, finished).eta_seconds == 0.0
    assert progress.table_progress(plan, []).rows_done == 0


def test_throttled_names_a_running_partition_of_the_first_table_that_is() -> None:
    plans = {t: TablePlan(table=t, partitions=1, rows_total=10) for t in ("a", "b")}
    reports = {
        ("a", 0): report("a", 0, 10, done=True, throttled="paused"),
        ("b", 0): report("b", 0, 1, throttled="rows/s cap"),
    }
    assert progress.aggregate(plans, reports)[1] == "rows/s cap"


def status(**fields: object) -> MigrationStatus:
    base: dict[str, object] = {
        "workflow_id": "w", "migration": "m", "target": "prod", "schema_name": "public", "tables": ["users"],
        "phase": Phase.BACKFILL,
    }  # fmt: skip
    return MigrationStatus.model_validate(base | fields)


def test_details_show_what_an_operator_wants_at_a_glance() -> None:
    s = status(
        phase=Phase.AWAITING_CONTRACT,
        paused=True,
        waiting_for="contract",
        contract_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        progress=[{"table": "users", "rows_total": 10, "rows_done": 4, "rows_per_second": 2.4, "eta_seconds": 2.5}],
        throttled="rows/s cap",
        verify=VerifyReport(tables=[TableReport(table="users", rows_checked=10)]),
        last_error="boom",
        rollback_reason="why",
    )
    assert details.render(s).splitlines() == [
        "**m** on `prod`: phase **awaiting_contract** (paused)",
        "waiting for approval of the **contract** gate (or until 2026-01-02 03:04:05 UTC)",
        "- users: 4/10 rows, 2 rows/s, ETA 2s",
        "throttled: rows/s cap",
        "verified: users 10 rows",
        "last error: boom",
        "rollback: why",
    ]
    assert details.render(status()) == "**m** on `prod`: phase **backfill**"


@pytest.mark.parametrize(
    ("phase", "paused", "pause", "resume", "rollback"),
    [
        (Phase.STARTING, False, None, "not paused (phase starting)", None),
        (Phase.BACKFILL, True, "already paused", None, None),
        (Phase.AWAITING_CUTOVER, False, None, "not paused (phase awaiting_cutover)", None),
        (
            Phase.CONTRACT,
            False,
            "cannot pause: the migration is in phase contract",
            "not paused (phase contract)",
            "cannot roll back: contract has begun (it is irreversible)",
        ),
        (
            Phase.ROLLING_BACK,
            False,
            "cannot pause: the migration is in phase rolling_back",
            "not paused (phase rolling_back)",
            "cannot roll back: the migration is already rolling back",
        ),
        (
            Phase.FAILED,
            False,
            "cannot pause: the migration is in phase failed",
            "not paused (phase failed)",
            "cannot roll back: the migration is already failed",
        ),
    ],
)
def test_refusals(phase: Phase, paused: bool, pause: str | None, resume: str | None, rollback: str | None) -> None:
    s = status(phase=phase, paused=paused)
    assert (requests.refusal(PAUSE, s), requests.refusal(RESUME, s), requests.refusal(ROLLBACK, s)) == (
        pause,
        resume,
        rollback,
    )


def test_approval_only_of_the_waiting_gate() -> None:
    waiting = status(phase=Phase.AWAITING_CUTOVER, waiting_for="cutover")
    assert requests.refusal(APPROVE, waiting, "cutover") is None
    assert requests.refusal(APPROVE, waiting, "contract") == (
        "the contract gate is not waiting for approval (the cutover gate is waiting; phase awaiting_cutover)"
    )
    assert requests.refusal(APPROVE, status(), "cutover") == (
        "the cutover gate is not waiting for approval (no gate is waiting; phase backfill)"
    )


@pytest.mark.parametrize(
    ("phase", "ignored"),
    [
        (Phase.BACKFILL, None),
        (Phase.ROLLING_BACK, None),  # joins the rollback under way
        (Phase.CONTRACT, "cannot roll back: contract has begun (it is irreversible)"),
        (Phase.FAILED, "cannot roll back: the migration is already failed"),
    ],
)
def test_cancellation_is_a_rollback_request_until_contract(phase: Phase, ignored: str | None) -> None:
    assert requests.refusal_of_cancellation(status(phase=phase)) == ignored


def backfilling(*held: ProgressReport, partitions: int = 2) -> MigrationStatus:
    """A status as the workflow answers it in backfill: the finished partitions' results it holds."""
    plans = {"users": TablePlan(table="users", partitions=partitions, rows_total=1000)}
    reports = {(r.table, r.partition): r for r in held}
    table, throttled = progress.aggregate(plans, reports)
    return MigrationStatus(
        workflow_id="w", migration="m", target="t", schema_name="public", tables=["users"], phase=Phase.BACKFILL,
        progress=table, throttled=throttled, partitions=list(held),
    )  # fmt: skip


def test_live_reports_merge_into_the_workflows_status_with_the_same_aggregation() -> None:
    status = backfilling(report("users", 0, 500, done=True))
    assert (status.rows_done, status.progress[0].partitions_done) == (500, 1)
    live = [report("users", 1, 200, rate=100, throttled="rows/s cap")]
    merged = progress.with_live_reports(status, live)
    [users] = merged.progress
    assert (users.rows_done, users.rows_total, users.partitions_done, users.rows_per_second) == (700, 1000, 1, 100)
    assert users.eta_seconds == pytest.approx(3.0)  # 300 rows left at 100 rows/s
    assert merged.throttled == "rows/s cap"
    assert [(r.partition, r.rows_done) for r in merged.partitions] == [(0, 500), (1, 200)]
    assert status.rows_done == 500, "the workflow's own status is not changed"


def test_a_finished_partitions_result_wins_over_a_stale_heartbeat() -> None:
    status = backfilling(report("users", 0, 500, done=True))
    merged = progress.with_live_reports(status, [report("users", 0, 400, rate=10)])
    assert (merged.rows_done, merged.progress[0].partitions_done, merged.throttled) == (500, 1, None)


def test_a_retrying_partitions_failure_is_the_last_error() -> None:
    failing = report("users", 1, 10).model_copy(update={"error": "OperationalError: connection lost"})
    merged = progress.with_live_reports(backfilling(), [failing])
    assert merged.last_error == "backfill users/1: OperationalError: connection lost (retrying)"


def test_live_reports_only_in_backfill() -> None:
    status = backfilling().model_copy(update={"phase": Phase.VERIFY})
    assert progress.with_live_reports(status, [report("users", 0, 10)]) is status
    assert progress.with_live_reports(backfilling(), []).rows_done == 0


def test_details_in_backfill_point_at_the_running_partitions_heartbeats() -> None:
    s = backfilling(report("users", 0, 500, done=True))
    assert details.render(s).splitlines()[1] == (
        "- users: 500/1000 rows, 0 rows/s; 1 running partition(s): live progress in their heartbeat details"
    )
    finished = backfilling(report("users", 0, 500, done=True), report("users", 1, 500, done=True))
    assert details.render(finished).splitlines()[1] == "- users: 1000/1000 rows, 0 rows/s, ETA 0s"
