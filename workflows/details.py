"""The workflow's current details in the Temporal UI (Markdown): what an operator wants at a glance."""

from __future__ import annotations

from liveshift.lifecycle import Phase
from liveshift.workflows.models import MigrationStatus


def render(s: MigrationStatus) -> str:
    lines = [f"**{s.migration}** on `{s.target}`: phase **{s.phase}**" + (" (paused)" if s.paused else "")]
    if s.waiting_for:
        lines.append(
            f"waiting for approval of the **{s.waiting_for}** gate"
            + (f" (or until {s.contract_at:%Y-%m-%d %H:%M:%S} UTC)" if s.contract_at else "")
        )
    for t in s.progress:
        eta = f", ETA {t.eta_seconds:.0f}s" if t.eta_seconds is not None else ""
        running = t.partitions - t.partitions_done if s.phase == Phase.BACKFILL else 0
        # the workflow holds finished partitions' results; running ones report without history events
        live = f"; {running} running partition(s): live progress in their heartbeat details" if running > 0 else ""
        lines.append(f"- {t.table}: {t.rows_done}/{t.rows_total} rows, {t.rows_per_second:.0f} rows/s{eta}{live}")
    if s.throttled:
        lines.append(f"throttled: {s.throttled}")
    if s.green_percent is not None:
        lines.append(f"green has **{s.green_percent}%** of clients" + (f"; steps: {s.schedule}" if s.schedule else ""))
    if s.health is not None:
        verdict = "healthy" if s.health.healthy else "**unhealthy**"
        lines.append(f"health check: {verdict} (`{s.health.value}`, {s.health.checks} checks)")
        if s.health.failing and s.waiting_for:
            lines.append(f"stopped on the failing value `{s.health.failing}`: green is back at 0%")
    if s.verify is not None:
        lines.append(s.verify.summary())
    for b in s.terminated_blockers:
        lines.append(f"{b.ended_as} blocking backend {b.pid} ({b.state}, transaction open {b.transaction_open_s:.0f}s)")
    if s.last_error:
        lines.append(f"last error: {s.last_error}")
    if s.rollback_reason:
        lines.append(f"rollback: {s.rollback_reason}")
    return "\n".join(lines)
