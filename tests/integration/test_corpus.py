"""The corpus (tests/data/corpus): real schemas (an application's with many views, functions and policies; Django's
contrib tables from `sqlmigrate`; a partitioned table) and migrations over them. Each migration runs through every
phase on one database while its plain statements run on another: the end states (catalog, the objects outside the
tables, grants, rows) must be equal, or plan must refuse, as the case says."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.spec import parse_migration
from tests.harness.corpus import cases, differences, end_state, load
from tests.harness.db import complete
from tests.harness.postgres import PostgresServer, fresh_database

pytestmark = pytest.mark.integration

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_end_state_equals_the_plain_statements_or_plan_refuses(pg_server: PostgresServer, case: dict[str, Any]) -> None:
    m = parse_migration(case["migration"], file=f"corpus/cases.yaml#{case['case']}")
    with fresh_database(pg_server) as live, fresh_database(pg_server) as plain:
        load(live, case["schema"])
        try:
            with open_session(live) as conn:
                preflight.validate(conn, m)
        except SpecError as exc:
            assert "refused" in case, f"plan refused what the case expects to complete: {exc}"
            assert case["refused"] in str(exc)
            return
        assert "refused" not in case, "plan accepted what the case expects it to refuse"
        complete(live, m)
        load(plain, case["schema"])
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(case["plain"])
            expected = end_state(conn)
        with psycopg.connect(live, autocommit=True) as conn:
            got = end_state(conn)
        assert got == expected, "\n".join(differences(got, expected))
