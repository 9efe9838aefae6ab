"""The benchmark's own stack on this machine: an embedded PostgreSQL, a Temporal dev server, a worker process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from liveshift.cli.process import stop_process
from liveshift.cli.stack.dev import search_attribute_flags
from liveshift.cli.stack.postgres import EmbeddedPostgres
from liveshift.cli.stack.temporal import TemporalDevServer
from liveshift.worker.config import TARGET_PREFIX
from liveshift.workflows.models import TASK_QUEUE

REPO = Path(__file__).resolve().parent.parent


@dataclass
class BenchStack:
    """Everything in one temporary directory, removed by `stop()`; the worker serves targets added before it starts."""

    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="liveshift-bench-")))
    postgres: EmbeddedPostgres | None = None
    temporal: TemporalDevServer | None = None
    worker: subprocess.Popen[bytes] | None = None
    targets: dict[str, str] = field(default_factory=dict)

    def start(self) -> BenchStack:
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres").start()
        self.temporal = TemporalDevServer(
            self.data_dir / "temporal", headless=True, search_attributes=search_attribute_flags()
        ).start()
        return self

    @property
    def admin_dsn(self) -> str:
        assert self.postgres is not None
        return self.postgres.dsn()

    def create_database(self, name: str) -> str:
        """A fresh database, also registered as worker target `name`."""
        assert self.postgres is not None
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.targets[name] = self.postgres.dsn(name)
        return self.targets[name]

    def start_worker(self) -> None:
        """`python -m liveshift.worker` as its own OS process, knowing every target created so far."""
        assert self.temporal is not None
        self.stop_worker()
        env = {k: v for k, v in os.environ.items() if not k.startswith(TARGET_PREFIX)}
        env.update({f"{TARGET_PREFIX}{name.upper()}": dsn for name, dsn in self.targets.items()})
        env.update(LIVESHIFT_TEMPORAL_ADDRESS=self.temporal.address, LIVESHIFT_LOG_LEVEL="WARNING")
        with (self.data_dir / "worker.log").open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "liveshift.worker"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    async def client(self) -> Client:
        assert self.temporal is not None
        return await Client.connect(self.temporal.address, data_converter=pydantic_data_converter)

    async def wait_for_worker(self, client: Client, timeout: float = 60.0) -> None:
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
        deadline = time.monotonic() + timeout
        while not (await client.workflow_service.describe_task_queue(request)).pollers:
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.worker.returncode}); see {self.data_dir / 'worker.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError("no worker polls the task queue")
            await asyncio.sleep(0.3)

    def stop_worker(self) -> None:
        process, self.worker = self.worker, None
        stop_process(process)

    def stop(self) -> None:
        self.stop_worker()
        if self.temporal is not None:
            self.temporal.stop()
        if self.postgres is not None:
            self.postgres.destroy()
