"""`liveshift init`: a schema's base version registered through the worker (the CLI reaches Temporal only), so
liveshift.client works before the first migration, and that migration's rollback keeps the version."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import psycopg
import pytest

from liveshift import phases
from liveshift.client import VersionRouter
from liveshift.connections import open_session
from tests.harness.cli import ROOT
from tests.harness.db import migration
from tests.harness.scenario import expand
from tests.harness.temporal import TemporalServer, WorkerHandle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
RENAME = migration(
    "name: users_full_name\noperations:\n  - {op: rename_column, table: users, column: name, to: full_name}\n"
)


async def liveshift(temporal: TemporalServer, worker: WorkerHandle, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, off the event loop (the in-process worker keeps serving on it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    env |= {
        "LIVESHIFT_TEMPORAL_ADDRESS": temporal.address,
        "LIVESHIFT_TEMPORAL_NAMESPACE": temporal.namespace,
        "LIVESHIFT_TASK_QUEUE": worker.task_queue,
    }
    command = [sys.executable, "-m", "liveshift.cli.main", *args]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, cwd=ROOT)


def _routed(dsn: str) -> tuple[str, tuple[object, ...] | None]:
    with psycopg.connect(dsn) as app, VersionRouter(pooling="transaction").transaction(app) as version:
        return version, app.execute("SELECT name FROM users WHERE id = 1").fetchone()


async def test_init_registers_the_base_version_before_any_migration_and_a_rollback_keeps_it(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, name text)")
    conn.execute("INSERT INTO users VALUES (1, 'ada')")
    first = await liveshift(temporal, liveshift_worker, "init", "--target", "test", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"schema": "public", "version": "public_base", "created": True}
    assert _routed(dsn) == ("public_base", ("ada",))  # the client works before any migration

    again = await liveshift(temporal, liveshift_worker, "init", "--target", "test")
    assert again.returncode == 0 and "already has version public_base" in again.stdout

    expand(dsn, RENAME)
    with open_session(dsn) as c:
        phases.rollback(c, RENAME.name)
    assert _routed(dsn) == ("public_base", ("ada",))  # the migration found the version and left it

    missing = await liveshift(temporal, liveshift_worker, "init", "--target", "test", "--schema", "nosuch")
    assert missing.returncode == 2 and "schema 'nosuch' does not exist" in missing.stderr
