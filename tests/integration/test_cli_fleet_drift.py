"""`liveshift fleet drift` end to end: the CLI (a subprocess) asks the Temporal dev server, a worker with three
tenant targets and a configured fleet reads them through FleetDriftWorkflow, and the CLI prints the report."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from liveshift.fleet.members import MemberQuery, MemberSelector
from liveshift.worker.main import run_worker
from liveshift.workflows.fleet_drift import FLEET_DRIFT_WORKFLOW
from tests.harness.cli import ROOT, cli_env
from tests.harness.db import complete, migration
from tests.harness.fleet import create_tenant_schema, many_databases
from tests.harness.postgres import PostgresServer
from tests.harness.temporal import TemporalServer, record_history, worker_settings

pytestmark = pytest.mark.integration

ADD_PHONE = """
name: add_phone
operations:
  - {op: add_column, table: accounts, column: {name: phone, type: text, nullable: true}}
"""


@pytest.fixture(scope="module")
async def fleet_worker(
    temporal: TemporalServer, pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Path]:
    """Three tenant databases migrated alike, the first altered by hand; a worker whose targets are tenant_NN and
    whose fleet `tenants` matches them; the CLI's config file (Temporal only: no connection strings)."""
    with many_databases(pg_server, 3) as names:
        dsns = {f"tenant_{i:02d}": pg_server.dsn(name) for i, name in enumerate(names)}
        for dsn in dsns.values():
            with psycopg.connect(dsn, autocommit=True) as conn:
                create_tenant_schema(conn)
            complete(dsn, migration(ADD_PHONE))
        with psycopg.connect(dsns["tenant_00"], autocommit=True) as conn:
            conn.execute("ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'trial'")
        settings = worker_settings(temporal, "unused").model_copy(
            update={
                "targets": {name: SecretStr(dsn) for name, dsn in dsns.items()},
                "fleets": {
                    "tenants": MemberSelector(pattern="tenant_*"),
                    # database per tenant: the same three databases, named by a query on one of them
                    "by_query": MemberSelector(query=MemberQuery(target="tenant_00", sql=by_name(names))),
                },
            }
        )
        config = tmp_path_factory.mktemp("fleet") / "liveshift.toml"
        config.write_text(
            f'[temporal]\naddress = "{temporal.address}"\nnamespace = "{temporal.namespace}"\n'
            f'task_queue = "{settings.temporal.task_queue}"\n'
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(settings, stop, client=temporal.client))
        try:
            yield config
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


def by_name(names: list[str]) -> str:
    prefix = names[0].split("_")[0]
    return f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%'"


async def cli(config: Path, *args: str) -> tuple[int, str, str]:
    """The CLI as a subprocess, without blocking the event loop the worker runs on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "liveshift.cli.main",
        *args,
        cwd=ROOT,
        env=cli_env(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_fleet_drift_reports_versions_and_the_altered_member(
    fleet_worker: Path, temporal: TemporalServer
) -> None:
    code, out, err = await cli(fleet_worker, "fleet", "drift", "--fleet", "tenants", "--json")
    assert code == 1, err  # a member drifted
    report = json.loads(out.splitlines()[-1])
    assert report["by_version"] == {"add_phone": ["tenant_00", "tenant_01", "tenant_02"]}
    assert report["drifted"] == ["tenant_00"]
    first = report["members"][0]
    assert first["state"] == "drifted" and first["changes"] == [{"object": "column accounts.plan", "change": "changed"}]

    code, out, err = await cli(fleet_worker, "fleet", "drift", "--target", "tenant_01", "--target", "tenant_02")
    assert code == 0, err
    assert "matches" in out and "tenant_00" not in out and "add_phone" in out

    code, out, _ = await cli(fleet_worker, "fleet", "drift", "--pattern", "tenant_0[0]")
    assert code == 1 and "changed column accounts.plan" in out and "drifted" in out

    code, out, err = await cli(fleet_worker, "fleet", "drift", "--fleet", "by_query", "--json")
    report = json.loads(out.splitlines()[-1])
    assert code == 1, err
    assert [m["state"] for m in report["members"]] == ["drifted", "matches", "matches"]
    assert all(m["key"].startswith("tenant_00/") for m in report["members"])

    async for execution in temporal.client.list_workflows(f"WorkflowType = '{FLEET_DRIFT_WORKFLOW}'", limit=1):
        handle = temporal.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        record_history("fleet_drift_report", (await handle.fetch_history()).to_json())


async def test_fleet_drift_refuses_an_unknown_fleet_or_target(fleet_worker: Path) -> None:
    code, _, err = await cli(fleet_worker, "fleet", "drift", "--fleet", "eu")
    assert (
        code == 2
        and err.startswith("liveshift fleet drift: refused: ")
        and "unknown fleet 'eu': configured are by_query, tenants" in err
    )
    code, _, err = await cli(fleet_worker, "fleet", "drift", "--target", "tenant_09")
    assert code == 2 and "unknown target 'tenant_09'" in err
