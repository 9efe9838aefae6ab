"""Prometheus metric definitions (prometheus-client); the worker serves them on /metrics.

The core stays free of Temporal: the activities record these from the core's own callbacks
(backfill progress and replication holds, lock retries of the safe DDL executor, verify reports, green's share
where cutover and shift apply it, health-check results); the workflow sets the phase gauge as it enters each phase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, get_args

from prometheus_client import Counter, Gauge, Histogram

from liveshift.lifecycle import Phase
from liveshift.values import HoldKind, VerifyReport

if TYPE_CHECKING:
    from liveshift.ddl.steps import Step

PHASES: tuple[str, ...] = tuple(p.value for p in Phase)

ROWS_BACKFILLED = Counter(
    "liveshift_rows_backfilled", "Rows the backfill has walked (committed batches)", ["migration", "table"]
)
BATCH_DURATION = Histogram(
    "liveshift_batch_duration_seconds",
    "Time one backfill batch took, including its checkpoint commit",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BATCH_SIZE = Gauge(
    "liveshift_batch_size", "Rows asked for by the last backfill batch (adaptive)", ["migration", "table", "partition"]
)
LOCK_RETRIES = Counter(
    "liveshift_lock_retries", "Lock-taking statements that timed out on lock_timeout and were retried", ["migration"]
)
THROTTLE_WAITS = Counter(
    "liveshift_throttle_waits", "Backfill batches delayed by the throttle, by reason", ["migration", "reason"]
)
BACKFILL_HELD = Gauge(
    "liveshift_backfill_held",
    "1 while a backfill partition holds for a replication or application-health signal (liveshift.replication)",
    ["migration", "table", "partition", "signal"],
)
PHASE = Gauge(
    "liveshift_migration_phase", "1 for the phase a migration is in (this worker's view)", ["migration", "phase"]
)
VERIFY_MISMATCHES = Counter(
    "liveshift_verify_mismatches", "Rows whose representations disagreed", ["migration", "table"]
)
VERIFY_ROWS = Counter("liveshift_verify_rows", "Rows compared by verify", ["migration", "table"])
GREEN_SHARE = Gauge(
    "liveshift_green_share_percent", "Share of clients sent to green (0..100), as last applied", ["migration"]
)
HEALTH_CHECKS = Counter(
    "liveshift_health_checks", "Health-check evaluations, by result (healthy|unhealthy)", ["migration", "result"]
)
HEALTHY = Gauge("liveshift_health_check_healthy", "1 while the last health check passed, else 0", ["migration"])

LOCK_WAIT = Gauge(
    "liveshift_lock_wait_seconds",
    "How long the running step has waited outside the lock queue for a blocking transaction (0: not waiting)",
    ["migration"],
)
LOCK_BLOCKER = Gauge(
    "liveshift_lock_blocker_transaction_seconds",
    "How long the transaction of each backend a waiting step waits for has been open",
    ["migration", "pid", "state", "mode", "table"],
)
BLOCKERS_TERMINATED = Counter(
    "liveshift_blockers_terminated",
    "Blocking backends ended with pg_terminate_backend (terminate_blockers_after_s)",
    ["migration"],
)
AUTOVACUUM_CANCELLED = Counter(
    "liveshift_autovacuum_cancelled",
    "Autovacuum workers that blocked a step, cancelled with pg_cancel_backend (as PostgreSQL cancels one a lock "
    "request waits on)",
    ["migration"],
)


def set_phase(migration: str, phase: str) -> None:
    for p in PHASES:
        PHASE.labels(migration=migration, phase=p).set(1 if p == phase else 0)


HOLD_SIGNALS: tuple[str, ...] = get_args(HoldKind)


def set_backfill_held(migration: str, table: str, partition: int, signal: str | None) -> None:
    """1 for the signal a partition holds for now, 0 for the others (all 0: not held)."""
    for s in HOLD_SIGNALS:
        BACKFILL_HELD.labels(migration=migration, table=table, partition=str(partition), signal=s).set(
            1 if s == signal else 0
        )


def set_green_share(migration: str, percent: int) -> None:
    GREEN_SHARE.labels(migration=migration).set(percent)


def count_health_check(migration: str, healthy: bool) -> None:
    HEALTH_CHECKS.labels(migration=migration, result="healthy" if healthy else "unhealthy").inc()
    HEALTHY.labels(migration=migration).set(1 if healthy else 0)


def lock_retry_counter(migration: str) -> Callable[[Step, int], None]:
    """The safe DDL executor's retry hook: counts each retried lock wait of `migration`."""

    def count(step: Step, attempt: int) -> None:
        LOCK_RETRIES.labels(migration=migration).inc()

    return count


def count_verified(migration: str, report: VerifyReport) -> None:
    for table in report.tables:
        labels = {"migration": migration, "table": table.table}
        VERIFY_ROWS.labels(**labels).inc(table.rows_checked)
        VERIFY_MISMATCHES.labels(**labels).inc(table.mismatches)


FLEET_MEMBERS = Gauge(
    "liveshift_fleet_members",
    "Members of a fleet rollout by state: done, running, failed, pending (this worker's view)",
    ["fleet", "state"],
)


def set_fleet_members(fleet: str, summary: dict[str, int]) -> None:
    for state, count in summary.items():
        FLEET_MEMBERS.labels(fleet=fleet, state=state).set(count)
