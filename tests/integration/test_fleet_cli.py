"""A schema-per-tenant fleet rollout started and shown through `liveshift fleet` as an operator runs it: the worker
resolves the selector, each schema's migration runs in its schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.workflows.fleet_client import fleet_handle
from tests.harness.apps import ADD_COLUMN, seed
from tests.harness.temporal import TemporalServer, WorkerHandle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


def fleet_cli(worker: WorkerHandle, temporal: TemporalServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    env |= {"LIVESHIFT_TEMPORAL_ADDRESS": temporal.address, "LIVESHIFT_TASK_QUEUE": worker.task_queue}
    return subprocess.run(
        [sys.executable, "-m", "liveshift.cli.main", "fleet", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_schema_per_tenant_through_the_cli(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    for schema in ("t1", "t2"):
        conn.execute(sql.SQL("CREATE SCHEMA {s}; SET search_path = {s}").format(s=sql.Identifier(schema)))
        seed(conn, rows=100)
    conn.execute("RESET search_path")
    file = tmp_path / "add_column.yaml"
    file.write_text(ADD_COLUMN)
    name = f"schemas-{os.getpid()}"
    selector = ["--targets", liveshift_worker.target, "--schemas", "t1,t2", "--canary-members", "0"]
    started = await asyncio.to_thread(
        fleet_cli, liveshift_worker, temporal, "start", str(file), "--name", name, *selector, "--auto-cutover",
        "--soak", "0", "--drain", "0", "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    result = await asyncio.wait_for(fleet_handle(temporal.client, name).result(), 60)
    assert result.state == "complete" and result.summary()["done"] == 2
    for schema in ("t1", "t2"):
        query = sql.SQL("SELECT count(*) FROM {}.users WHERE email_lower IS DISTINCT FROM lower(email)")
        assert conn.execute(query.format(sql.Identifier(schema))).fetchone() == (0,)
    text = await asyncio.to_thread(fleet_cli, liveshift_worker, temporal, "status", name)
    assert f"fleet {name} (users_email_lower): complete" in text.stdout and "test/t2" in text.stdout
