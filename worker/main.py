"""The liveshift worker: the migration workflow, its activities, DB targets, and /metrics."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import prometheus_client
from temporalio.client import Client
from temporalio.worker import Worker

from liveshift.activities.fleet import FleetActivities
from liveshift.activities.history import HistoryActivities
from liveshift.activities.migration import MigrationActivities
from liveshift.activities.rehearsal import RehearsalActivities
from liveshift.worker.client import connect, ensure_search_attributes, sdk_runtime
from liveshift.worker.config import Settings
from liveshift.workflows.directory import MigrateDirectoryWorkflow
from liveshift.workflows.fleet import FleetWorkflow
from liveshift.workflows.fleet_drift import FleetDriftWorkflow
from liveshift.workflows.history import HistoryWorkflow
from liveshift.workflows.migration import MigrationWorkflow
from liveshift.workflows.sandbox import workflow_runner

log = logging.getLogger(__name__)

# database threads: backfill partitions, phase steps, verify (each holds one connection while it runs)
DB_THREADS = 32
# the SDK sends an activity's heartbeats at most this often (else 80% of the heartbeat timeout, 8 s): backfill
# partitions carry their progress in the heartbeat details, which `liveshift status` shows, so about every second
HEARTBEAT_THROTTLE = timedelta(seconds=1)


def build_worker(client: Client, settings: Settings, executor: ThreadPoolExecutor) -> Worker:
    activities = MigrationActivities(settings.dsn_for, executor)
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        workflows=[MigrationWorkflow, MigrateDirectoryWorkflow, HistoryWorkflow, FleetWorkflow, FleetDriftWorkflow],
        activities=activities.all()
        + HistoryActivities(settings.dsn_for, executor).all()
        + RehearsalActivities(settings.dsn_for, settings.scratch_for, executor).all()
        + FleetActivities(settings, executor).all(),
        max_concurrent_activities=DB_THREADS,
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        workflow_runner=workflow_runner(),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None, *, client: Client | None = None) -> None:
    """Serve until `stop` is set (forever without one). `client`: reuse a connection (tests, the CLI)."""
    if settings.metrics_port is not None:
        prometheus_client.start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.info("liveshift metrics on %s:%d/metrics", settings.metrics_host, settings.metrics_port)
    if client is None:
        client = await connect(settings, sdk_runtime(settings))
    await ensure_search_attributes(client, settings.temporal.namespace)
    log.info(
        "worker on task queue %r of %s/%s; targets: %s",
        settings.temporal.task_queue,
        settings.temporal.address,
        settings.temporal.namespace,
        ", ".join(sorted(settings.targets)) or "none",
    )
    with ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="liveshift-db") as executor:
        async with build_worker(client, settings, executor):
            await (stop or asyncio.Event()).wait()
