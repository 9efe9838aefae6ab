"""raw_sql's on_complete (at contract, once) and a table its up creates, shown by green's version."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.operations.raw_sql import RAW_TABLE
from tests.harness.scenario import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Run,
    columns_of,
    count,
    each_step_twice_equals_once,
    exists,
    rollback_from,
)

pytestmark = pytest.mark.integration


def test_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, RAW_TABLE) as run:
        run.expand()
        assert columns_of(run.green, "tags") == ["id", "label"]
        assert not exists(run.blue, f"{BLUE}.tags")
        assert not exists(conn, "public.tags_label_idx")  # on_complete waits for contract
        run.exchange()
        run.through("cutover")
        run.contract()
    assert exists(conn, "public.tags_label_idx")
    assert count(conn, "SELECT count(*) FROM liveshift.raw_sql_runs") == 0


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, RAW_TABLE, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, RAW_TABLE)
