"""A property over generated schemas and migration files (tests/harness/generated.py): every migration plan accepts
ends, through every phase, in the end state (catalog, view, grants, rows) its plain statements leave; or plan
refuses it.

Budget: CI runs a fixed small one, derandomized (the same examples every run, well under a minute).
LIVESHIFT_GENERATED_EXAMPLES=N runs N examples instead, randomized (a longer search on demand), e.g.
`LIVESHIFT_GENERATED_EXAMPLES=500 .venv/bin/python -m pytest tests/integration/test_generated.py`; hypothesis prints
the smallest failing schema and migration it finds."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.spec import parse_migration
from tests.harness.corpus import differences, end_state
from tests.harness.db import complete
from tests.harness.generated import Case, cases
from tests.harness.postgres import PostgresServer, fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CI_EXAMPLES = 30
EXAMPLES = int(os.environ.get("LIVESHIFT_GENERATED_EXAMPLES") or CI_EXAMPLES)
BUDGET = settings(
    max_examples=EXAMPLES,
    derandomize="LIVESHIFT_GENERATED_EXAMPLES" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def databases(pg_server: PostgresServer) -> Iterator[tuple[str, str]]:
    """Two databases for all the examples (emptied before each): the migration's and the plain statements'."""
    with fresh_database(pg_server) as live, fresh_database(pg_server) as plain:
        yield live, plain


def empty(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND nspname NOT LIKE 'pg\\_%'"
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema)))
        conn.execute("CREATE SCHEMA public")


@BUDGET
@given(case=cases())
def test_a_migration_ends_as_its_plain_statements_or_is_refused(databases: tuple[str, str], case: Case) -> None:
    live, plain = databases
    for dsn in databases:
        empty(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(case.setup())  # type: ignore[arg-type]  # generated SQL
    m = parse_migration(case.migration(), file="generated.yaml")
    try:
        with open_session(live) as conn:
            preflight.validate(conn, m)
    except SpecError as exc:
        event(f"refused at plan: {exc.message.split(':')[0]}")
        return
    event(f"completed: {case.operations[0]['op']}")
    complete(live, m)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(case.plain_sql())  # type: ignore[arg-type]
        expected = end_state(conn)
    with psycopg.connect(live, autocommit=True) as conn:
        got = end_state(conn)
    assert got == expected, "\n".join(differences(got, expected))
