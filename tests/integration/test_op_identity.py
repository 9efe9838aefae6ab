"""Identity and generated columns (create_table, add_column, alter_column) and add_primary_key through every phase,
with a blue and a green client reading and writing (issue 22, items 2 and 7)."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.operations.identity import SCENARIOS
from tests.harness.scenario import PHASES_BEFORE_CONTRACT, each_step_twice_equals_once, every_phase, rollback_from

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    every_phase(dsn, conn, SCENARIOS[scenario])


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
