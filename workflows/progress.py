"""Backfill progress per table, from the partitions' latest reports: pure arithmetic, no Temporal.

The workflow holds each finished partition's result; the running ones report in their activities' heartbeat
details, which a reader (`liveshift status`) fetches with describe and merges in with `with_live_reports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from liveshift.activities.payloads import ProgressReport
from liveshift.lifecycle import Phase
from liveshift.workflows.models import MigrationStatus, TablePlan, TableProgress

# (table, partition) -> that partition's latest report
Reports = Mapping[tuple[str, int], ProgressReport]


def table_progress(plan: TablePlan, reports: list[ProgressReport]) -> TableProgress:
    """Rows done and total (never below what is done), the running partitions' rows/s, and the ETA: 0 once
    every partition is done, None while nothing moves."""
    done = sum(r.rows_done for r in reports)
    rate = sum(r.rows_per_second for r in reports if not r.done)
    total = max(plan.rows_total, done)
    finished = sum(1 for r in reports if r.done)
    if rate > 0:
        eta: float | None = (total - done) / rate
    else:
        eta = 0.0 if finished == plan.partitions else None
    return TableProgress(
        table=plan.table,
        rows_total=total,
        rows_done=done,
        rows_per_second=rate,
        eta_seconds=eta,
        partitions=plan.partitions,
        partitions_done=finished,
    )


def aggregate(plans: Mapping[str, TablePlan], reports: Reports) -> tuple[list[TableProgress], str | None]:
    """Every table's progress, and why a running partition is throttled (the first table's that is)."""
    progress = []
    throttled = None
    for table, plan in plans.items():
        of_table = [r for (t, _), r in reports.items() if t == table]
        progress.append(table_progress(plan, of_table))
        throttled = throttled or next((r.throttled for r in of_table if r.throttled and not r.done), None)
    return progress, throttled


def partition_error(report: ProgressReport) -> str | None:
    """What the status says of a partition whose last attempt failed (it retries on its own)."""
    if not report.error:
        return None
    return f"backfill {report.table}/{report.partition}: {report.error} (retrying)"


def with_live_reports(status: MigrationStatus, live: Iterable[ProgressReport]) -> MigrationStatus:
    """`status` with the running partitions' latest reports merged in (a finished partition's result wins):
    the same aggregation the workflow does, over fresher reports. Outside backfill, `status` as it is."""
    live = list(live)
    if status.phase != Phase.BACKFILL or not live:
        return status
    reports = {(r.table, r.partition): r for r in status.partitions}
    for r in live:
        held = reports.get((r.table, r.partition))
        if held is None or not held.done:
            reports[(r.table, r.partition)] = r
    plans = {
        t.table: TablePlan(table=t.table, partitions=t.partitions, rows_total=t.rows_total) for t in status.progress
    }
    progress, throttled = aggregate(plans, reports)
    errors = [e for e in map(partition_error, live) if e]
    return status.model_copy(
        update={
            "progress": progress,
            "throttled": throttled,
            "partitions": sorted(reports.values(), key=lambda r: (r.table, r.partition)),
            "last_error": errors[0] if errors else status.last_error,
        }
    )
