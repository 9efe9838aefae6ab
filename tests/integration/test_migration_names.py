"""Migration names like 01_create_tables: accepted, their version schema quoted and within 63 bytes."""

from __future__ import annotations

import psycopg
import pytest

from liveshift.errors import SpecError
from liveshift.spec import parse_migration
from liveshift.versions.schemas import version_schema
from tests.harness.operations.names import DIGIT_FIRST, LONG
from tests.harness.scenario import PHASES_BEFORE_CONTRACT, Scenario, every_phase, rollback_from

pytestmark = pytest.mark.integration


def test_version_schema_names() -> None:
    assert version_schema("public", "01_create_tables") == "public_01_create_tables"
    long_a, long_b = version_schema("public", "a" * 80 + "x"), version_schema("public", "a" * 80 + "y")
    assert len(long_a.encode()) == len(long_b.encode()) == 63
    assert long_a != long_b
    for bad in ("Upper", "with space", "-lead", "x" * 101, "semi;colon"):
        with pytest.raises(SpecError) as err:
            parse_migration({"name": bad, "operations": [{"op": "raw_sql", "up": "SELECT 1"}]})
        assert err.value.field == "name", bad


@pytest.mark.parametrize("scenario", [DIGIT_FIRST, LONG], ids=["digit_first", "long"])
def test_every_phase(dsn: str, conn: psycopg.Connection, scenario: Scenario) -> None:
    run = every_phase(dsn, conn, scenario)
    assert len(run.s.green_version.encode()) <= 63


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, DIGIT_FIRST, stop_after)
