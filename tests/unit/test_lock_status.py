"""What status makes of a lock-taking phase's heartbeat details: the report found among other activities',
the phase's terminations merged with the workflow's (once each), and the lines an operator reads."""

from __future__ import annotations

from liveshift.cli.render import lock_wait_lines, terminated_line
from liveshift.lifecycle import Phase
from liveshift.values import Blocker, LockDetails, LockWait
from liveshift.workflows import client as workflow_client
from liveshift.workflows import details
from liveshift.workflows.models import MigrationStatus

BLOCKER = Blocker(
    pid=42,
    table="users",
    mode="AccessShareLock",
    granted=True,
    state="idle in transaction",
    transaction_open_s=75.0,
    query="SELECT * FROM users",
    usename="app",
    xact_start="2026-12-01 09:00:00+00",
)
WAIT = LockWait(
    step="add column x", lock_mode="AccessExclusiveLock", tables=["public.users"], waited_s=12.5, blockers=[BLOCKER]
)


def status(**fields: object) -> MigrationStatus:
    base = {"workflow_id": "w", "migration": "m", "target": "prod", "schema_name": "public", "tables": ["users"]}
    return MigrationStatus.model_validate(base | {"phase": Phase.EXPAND} | fields)


def test_the_lock_report_is_found_among_the_pending_activities() -> None:
    progress = {"table": "users", "partition": 0, "rows_done": 5, "batches": 1, "last_key": [5], "done": False}
    heartbeats = [("backfill_partition", [progress]), ("expand", [LockDetails(lock_wait=WAIT).model_dump(mode="json")])]
    assert workflow_client.lock_details(heartbeats) == LockDetails(lock_wait=WAIT)
    assert workflow_client.lock_details([("backfill_partition", [progress]), ("expand", [])]) is None


def test_terminations_of_the_running_phase_join_the_workflows_once() -> None:
    other = BLOCKER.model_copy(update={"pid": 43})
    current = status(terminated_blockers=[BLOCKER])
    merged = workflow_client.with_lock_details(current, LockDetails(terminated=[BLOCKER, other]))
    assert [b.pid for b in merged.terminated_blockers] == [42, 43]
    assert workflow_client.with_lock_details(current, None) is current


def test_the_lines_name_pid_age_state_query_mode_and_the_wait() -> None:
    assert lock_wait_lines(WAIT) == [
        "lock wait: 12.5s outside the lock queue: add column x (needs AccessExclusiveLock on public.users)",
        "  blocked by pid 42 (idle in transaction, transaction open 1m15s, holds AccessShareLock on users): "
        "SELECT * FROM users",
    ]
    starving = lock_wait_lines(WAIT.model_copy(update={"starving": True}))
    assert starving[1].startswith("  starving: ")
    assert terminated_line(BLOCKER) == (
        "terminated blocking backend pid 42 (app, idle in transaction, transaction open 1m15s, AccessShareLock on "
        "users): SELECT * FROM users"
    )
    assert "terminated blocking backend 42 (idle in transaction, transaction open 75s)" in details.render(
        status(terminated_blockers=[BLOCKER])
    )


def test_an_autovacuum_worker_is_named_and_cancelled_not_terminated() -> None:
    vacuum = BLOCKER.model_copy(
        update={
            "pid": 77,
            "table": "public.users",
            "mode": "ShareUpdateExclusiveLock",
            "state": "active",
            "transaction_open_s": 30.0,
            "query": "autovacuum: VACUUM ANALYZE public.users",
            "usename": None,
            "backend_type": "autovacuum worker",
        }
    )
    wraparound = vacuum.model_copy(update={"query": "autovacuum: VACUUM public.users (to prevent wraparound)"})
    assert vacuum.cancellable_autovacuum and not wraparound.cancellable_autovacuum
    assert not BLOCKER.cancellable_autovacuum and BLOCKER.ended_as == "terminated"
    lines = lock_wait_lines(WAIT.model_copy(update={"blockers": [vacuum]}))
    assert lines[1].startswith("  blocked by pid 77 (autovacuum worker, active, transaction open 30.0s, ")
    assert terminated_line(vacuum).startswith("cancelled autovacuum blocking backend pid 77 (-, active, ")
    assert "cancelled autovacuum blocking backend 77" in details.render(status(terminated_blockers=[vacuum]))
