"""A fleet's members from the worker's targets (liveshift/fleet/members.py) on a real server, and a schema-per-tenant
rollout started, followed and refused through `liveshift fleet` as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.errors import SpecError
from liveshift.fleet.members import Member, MemberQuery, MemberSelector, resolve
from liveshift.workflows.fleet_client import fleet_handle
from tests.harness.apps import ADD_COLUMN, seed
from tests.harness.temporal import TemporalServer, WorkerHandle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


def test_selectors_resolve_on_the_worker(dsn: str, conn: psycopg.Connection) -> None:
    targets = {"shard1": dsn, "shard2": dsn, "other": dsn}
    conn_for = lambda target: psycopg.connect(targets[target], autocommit=True)  # noqa: E731
    named = resolve(conn_for, list(targets), MemberSelector(targets=["other"], pattern="shard*"))
    assert named == [Member(key=t, target=t) for t in ("other", "shard1", "shard2")]
    per_schema = resolve(conn_for, list(targets), MemberSelector(targets=["shard1"], schemas=["t1", "t2"]))
    assert [(m.key, m.schema_name) for m in per_schema] == [("shard1/t1", "t1"), ("shard1/t2", "t2")]
    dbname = conn.info.dbname
    query = MemberQuery(target="shard1", sql=f"SELECT datname FROM pg_database WHERE datname = '{dbname}'")
    [member] = resolve(conn_for, list(targets), MemberSelector(query=query))
    assert member == Member(key=f"shard1/{dbname}", target="shard1", database=dbname)
    schemas = MemberQuery(target="shard2", sql="SELECT 'tenant_' || g FROM generate_series(1, 3) g", kind="schema")
    assert len(resolve(conn_for, list(targets), MemberSelector(query=schemas))) == 3
    with pytest.raises(SpecError, match="unknown targets nope"):
        resolve(conn_for, list(targets), MemberSelector(targets=["nope"]))
    with pytest.raises(SpecError, match="names no member"):
        resolve(conn_for, list(targets), MemberSelector(pattern="db*"))
    with pytest.raises(SpecError, match="members named twice"):
        twice = MemberQuery(target="shard1", sql="SELECT 'x'", kind="schema")  # shard1/x, as the schemas name it
        resolve(conn_for, list(targets), MemberSelector(targets=["shard1"], schemas=["x"], query=twice))


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
        "--soak", "0", "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    result = await asyncio.wait_for(fleet_handle(temporal.client, name).result(), 60)
    assert result.state == "complete" and result.summary()["done"] == 2
    for schema in ("t1", "t2"):
        query = sql.SQL("SELECT count(*) FROM {}.users WHERE email_lower IS DISTINCT FROM lower(email)")
        assert conn.execute(query.format(sql.Identifier(schema))).fetchone() == (0,)
    text = await asyncio.to_thread(fleet_cli, liveshift_worker, temporal, "status", name)
    assert f"fleet {name} (users_email_lower): complete" in text.stdout and "test/t2" in text.stdout
