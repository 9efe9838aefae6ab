"""A worker process killed with SIGKILL mid-backfill: the request that backfills slowly enough to be caught, the
kill, and the clean-up of whatever worker processes a test started."""

from __future__ import annotations

import asyncio
import signal
import subprocess

from liveshift.backfill.walk import Throttle
from liveshift.workflows.models import MigrationInput, MigrationOptions
from tests.harness.db import migration, rows_done, until_rows_done

# 50-row batches at 300 rows/s over two partitions: the kill lands mid-backfill on any machine; windows of 4 turns
# (the checkpoint moves every 200 keys: with the default spread, widened for two partitions, a window would hold
# each partition whole, and the rows done would show only at its end)
SLOW_BACKFILL = MigrationOptions(
    auto_cutover=True,
    parallelism=2,
    progress_interval_s=1.0,
    throttle=Throttle(initial_batch=50, min_batch=50, max_batch=50, max_rows_per_second=300, spread=4),
)


def slow_request(spec: str) -> MigrationInput:
    return MigrationInput(target="test", migration=migration(spec), options=SLOW_BACKFILL)


async def kill_mid_backfill(worker: subprocess.Popen, dsn: str, after_rows: int, total_rows: int) -> int:
    """SIGKILL `worker` once `after_rows` rows are backfilled; the rows done when it died (fewer than all)."""
    await until_rows_done(dsn, after_rows)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    killed_at = await asyncio.to_thread(rows_done, dsn)
    assert killed_at < total_rows, "the backfill finished before the kill: slow it down"
    return killed_at


def stop(*workers: subprocess.Popen | None) -> None:
    for process in workers:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
