"""Applications behind a real PgBouncer (transaction pooling) through migrations the workflow drives (real worker,
real Temporal): a canary cutover at 50%, shifts, a rollback, then a contract right after 100% (`soak_seconds=0`).

Python clients (liveshift.client, a transaction each) with blue and green keys and an unrouted client share two
server connections: no statement runs under another version, nothing leaks into the unrouted client's session, no
acknowledged write is lost and no request fails after one retry. pgbench (no liveshift.client: the SQL-level
protocol, `liveshift.use_version` first in each transaction) runs TPC-B through a live type change of
pgbench_accounts.abalance (int to bigint): the balances agree after cutover, rollback and contract, and no
transaction fails.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from liveshift.client import VersionRouter
from tests.harness.db import complete, migration
from tests.harness.pgbench import PgbenchLoad, initialise, invariant
from tests.harness.pgbouncer import pgbouncer
from tests.harness.pooled_apps import (
    CENTS,
    LeakObserver,
    PooledClient,
    check_kept,
    set_up_accounts,
    split_keys,
    user_of,
)
from tests.harness.pooled_workflow import contracted, rolled_back
from tests.harness.temporal import TemporalServer, WorkerHandle

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PGBENCH_BASELINE = migration(
    "name: pgbench_baseline\noperations:\n"
    "  - {op: create_index, name: pgbench_tellers_bid_idx, table: pgbench_tellers, columns: [bid]}\n"
)
ABALANCE = migration(
    "name: abalance_bigint\noperations:\n"
    "  - {op: alter_column, table: pgbench_accounts, column: abalance, type: bigint}\n"
)
PGBENCH_BLUE, PGBENCH_GREEN = "public_pgbench_baseline", "public_abalance_bigint"


async def _nothing(step: str) -> None:
    return None


async def test_blue_and_green_clients_through_pgbouncer_through_the_workflow(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    set_up_accounts(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    with pgbouncer(dsn, [user_of(dsn)], pool_size=2) as pooled:
        router = VersionRouter(pooling="transaction")
        clients = [PooledClient(key, dsn=pooled, router=router) for key in blues + greens]
        observer = LeakObserver("observer", dsn=pooled)
        for loop in (*clients, observer):
            loop.start()
        try:
            await rolled_back(temporal, liveshift_worker, CENTS, _nothing)
            await contracted(temporal, liveshift_worker, CENTS, _nothing)
        finally:
            for loop in (*clients, observer):
                await asyncio.to_thread(loop.stop)
    assert observer.acked and observer.wrong == [] and observer.failed == []
    counts = check_kept(conn, clients)  # type: ignore[arg-type]
    print(f"\ndone-when through the workflow: {counts}, unrouted statements {len(observer.acked)}, leaked 0")


def _versions(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", ([PGBENCH_BLUE, PGBENCH_GREEN],)
    )
    return [r[0] for r in rows]


async def test_pgbench_through_pgbouncer_through_a_live_type_change(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    initialise(dsn)
    complete(dsn, PGBENCH_BASELINE)
    checked: list[tuple[str, dict[str, dict[str, int]]]] = []
    with pgbouncer(dsn, [user_of(dsn)], pool_size=2) as pooled:
        load = PgbenchLoad(pooled, clients=8)

        async def at_rest(step: str) -> None:
            if step not in ("cutover at 50%", "rollback", "contract"):
                return
            await asyncio.to_thread(load.pause)
            checked.append((step, {v: invariant(conn, v) for v in _versions(conn)}))
            load.resume()

        load.start()
        try:
            await rolled_back(temporal, liveshift_worker, ABALANCE, at_rest)
            await contracted(temporal, liveshift_worker, ABALANCE, at_rest)
        finally:
            await asyncio.to_thread(load.stop)
    assert [step for step, _ in checked] == ["cutover at 50%", "rollback", "cutover at 50%", "contract"]
    for step, versions in checked:
        assert versions, step
        for version, sums in versions.items():
            assert len(set(sums.values())) == 1, (step, version, sums)  # accounts = tellers = branches = history
    assert [b.output for b in load.bursts if b.returncode != 0 or b.failed] == []
    served = {r[0].strip() for r in conn.execute("SELECT DISTINCT filler FROM pgbench_history")}
    assert served == {PGBENCH_BLUE[:22], PGBENCH_GREEN[:22]}
    assert conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'public.pgbench_accounts'::regclass AND attname = 'abalance'"
    ).fetchone() == ("bigint",)
    processed = sum(b.processed for b in load.bursts)
    retried = sum(b.retried for b in load.bursts)
    print(
        f"\npgbench through pgbouncer: {len(load.bursts)} bursts, {processed} transactions, {retried} retried, 0 failed"
    )
