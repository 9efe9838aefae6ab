"""The migration workflow (real worker, real Temporal) driven through the share changes an application behind a
transaction pooler lives through: a canary cutover at 50%, shifts, then a rollback (one run) or a contract right
after 100% (`soak_seconds=0`, another run). `between(step)` runs after each step (the applications keep
running meanwhile), where a test checks what it must at that point."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from liveshift.spec import Migration
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    ROLLBACK,
    SHIFT,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
    RollbackRequest,
    ShiftRequest,
)
from tests.harness.temporal import TemporalServer, WorkerHandle, wait_for_phase

Between = Callable[[str], Awaitable[None]]
DRAIN_S = 1.0  # the clients read the flag in each transaction: a drain covers their longest transaction
PAUSE_S = 0.5  # requests run between steps


async def _started(temporal: TemporalServer, worker: WorkerHandle, migration: Migration, **options: object):  # type: ignore[no-untyped-def]
    request = MigrationInput(
        target=worker.target,
        migration=migration,
        options=MigrationOptions(auto_cutover=True, cutover_percent=50, drain_seconds=DRAIN_S, **options),  # type: ignore[arg-type]
    )
    handle = await start_migration(temporal.client, request, worker.task_queue)
    await wait_for_phase(handle, "awaiting_contract", timeout=120)
    return handle


async def _shift(handle, percent: int, between: Between) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(PAUSE_S)
    await handle.execute_update(SHIFT, ShiftRequest(percent=percent), result_type=str)
    await between(f"shift to {percent}%")


async def rolled_back(
    temporal: TemporalServer, worker: WorkerHandle, migration: Migration, between: Between
) -> MigrationStatus:
    """Cutover at 50%, shifts to 100% and 0%, back to 50%, then a rollback."""
    handle = await _started(temporal, worker, migration)
    await between("cutover at 50%")
    for percent in (100, 0, 50):
        await _shift(handle, percent, between)
    await asyncio.sleep(PAUSE_S)
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="done-when run"), result_type=str)
    status: MigrationStatus = await handle.result()
    assert status.phase == "rolled_back", status
    await between("rollback")
    return status


async def contracted(
    temporal: TemporalServer, worker: WorkerHandle, migration: Migration, between: Between
) -> MigrationStatus:
    """Cutover at 50%, a shift to 100%, and contract at once (`soak_seconds=0`: only the drain before it)."""
    handle = await _started(temporal, worker, migration, soak_seconds=0)
    await between("cutover at 50%")
    await _shift(handle, 100, between)
    status: MigrationStatus = await handle.result()
    assert status.phase == "complete", status
    await between("contract")
    return status
