"""Backfill progress per table, from the partitions' latest reports: pure arithmetic, no Temporal."""

from __future__ import annotations

from collections.abc import Mapping

from workflows.models import ProgressReport, TablePlan, TableProgress

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
