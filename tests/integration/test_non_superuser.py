"""The worker without superuser: a role that owns the migrated tables and may create schemas in the database
(how managed services run it) carries every operation through its phases, and a workflow end to end; what
needs more is refused before anything is written, naming what is missing.

Every operation's scenario (`SUITE`, one per scenario of tests/harness/operations, which the test_op_* modules
run) runs here with the worker as such a role and the clients as the harness's application role: the op suite
without superuser at the cost of three runs per scenario (`-k non_superuser` selects this file). The whole
suite runs this way too: LIVESHIFT_TEST_WORKER_ROLE=<role> makes every `dsn` such a database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from liveshift import phases
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.worker.main import run_worker
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import APPROVE, ApproveRequest, MigrationInput, MigrationOptions
from tests.harness.apps import ADD_COLUMN, GREEN, App, Writers, green_write, seed
from tests.harness.db import migration
from tests.harness.operations import columns, constraints, indexes, tables
from tests.harness.operations.multi import MULTI, ODD
from tests.harness.operations.raw_sql import RAW
from tests.harness.postgres import PostgresServer
from tests.harness.scenario import Scenario, each_step_twice_equals_once, every_phase, rollback_from
from tests.harness.temporal import TemporalServer, WorkerHandle, wait_for_phase, worker_settings

pytestmark = pytest.mark.integration

SUITE: dict[str, Scenario] = {
    f"{module.__name__.rsplit('.', 1)[-1]}-{name}": scenario
    for module in (columns, constraints, indexes, tables)
    for name, scenario in module.SCENARIOS.items()
} | {"multi": MULTI, "odd_identifiers": ODD, "raw_sql": RAW}


@pytest.fixture
def owner_conn(owner_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(owner_dsn, autocommit=True) as connection:
        yield connection


def test_the_worker_role_has_no_attribute_beyond_login(owner_conn: psycopg.Connection) -> None:
    row = owner_conn.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False, False)


@pytest.mark.parametrize("scenario", list(SUITE), ids=list(SUITE))
def test_each_operation_through_every_phase(owner_dsn: str, owner_conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(owner_dsn, owner_conn, SUITE[scenario])


@pytest.mark.parametrize("scenario", list(SUITE), ids=list(SUITE))
def test_each_operation_with_application_clients_in_every_phase(
    owner_dsn: str, owner_conn: psycopg.Connection, scenario: str
) -> None:
    run = every_phase(owner_dsn, owner_conn, SUITE[scenario], app_role=True)
    assert run.user is not None and run.user != owner_conn.info.user


@pytest.mark.parametrize("scenario", list(SUITE), ids=list(SUITE))
def test_each_operation_rolls_back_after_cutover(owner_dsn: str, owner_conn: psycopg.Connection, scenario: str) -> None:
    run = rollback_from(owner_dsn, owner_conn, SUITE[scenario], "cutover", app_role=True)
    assert run.phases == ["expand", "backfill", "verify", "cutover"]


@pytest.fixture
async def owner_worker(temporal: TemporalServer, owner_dsn: str) -> AsyncIterator[WorkerHandle]:
    settings = worker_settings(temporal, owner_dsn)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop, client=temporal.client))
    yield WorkerHandle(settings, "test", stop, task)
    stop.set()
    await asyncio.wait_for(task, timeout=30)


def green_once_usable(conn: psycopg.Connection, i: int) -> str | None:
    """Green's applications start once the role may use green: expand grants it last, all in one transaction."""
    usable = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s AND has_schema_privilege(oid, 'USAGE'))",
        (GREEN,),
    ).fetchone()
    return green_write(conn, i) if usable == (True,) else None


@pytest.mark.timeout(180)
async def test_workflow_end_to_end_with_an_application_role(
    owner_dsn: str,
    owner_conn: psycopg.Connection,
    temporal: TemporalServer,
    owner_worker: WorkerHandle,
    make_role: Callable[..., str],
) -> None:
    seed(owner_conn)
    app = make_role("app", owner_dsn)
    owner_conn.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON users TO {r}; GRANT USAGE ON SEQUENCE users_id_seq TO {r}").format(
            r=sql.Identifier(app)
        )
    )
    request = MigrationInput(
        target=owner_worker.target,
        migration=migration(ADD_COLUMN),
        options=MigrationOptions(auto_cutover=True, progress_interval_s=0.5),
    )
    app_dsn = psycopg.conninfo.make_conninfo(owner_dsn, user=app)
    writers = Writers(app_dsn)
    writers.green = App(app_dsn, GREEN, green_once_usable)
    with writers:
        handle = await start_migration(temporal.client, request, task_queue=owner_worker.task_queue)
        await wait_for_phase(handle, "awaiting_contract")
        writers.blue.halt()  # blue's applications moved to green at cutover: contract drops their version
        await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        result = await handle.result()
    assert result.phase == "complete"
    assert writers.errors == []
    assert len(writers.blue.written) > 0 and len(writers.green.written) > 0
    kept = owner_conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (writers.written,)).fetchone()
    assert kept == (len(writers.written),)
    assert owner_conn.execute(
        "SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)"
    ).fetchone() == (0,)
    assert owner_conn.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN,)


USERS = "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)"


def superuser_dsn(pg_server_admin: str, dsn: str) -> str:
    user = psycopg.conninfo.conninfo_to_dict(pg_server_admin)["user"]
    return psycopg.conninfo.make_conninfo(dsn, user=user)


def refusal(dsn: str) -> str:
    with open_session(dsn) as c, pytest.raises(SpecError) as refused:
        phases.prepare(c, migration(ADD_COLUMN), file="m.yaml")
    with open_session(dsn) as c:
        assert c.execute("SELECT to_regnamespace('liveshift') IS NULL").fetchone() == (True,)  # nothing written
    return str(refused.value)


def test_a_table_the_worker_does_not_own_is_refused(
    owner_dsn: str, owner_conn: psycopg.Connection, make_role: Callable[..., str], pg_server: PostgresServer
) -> None:
    other = make_role("other", owner_dsn)
    with psycopg.connect(superuser_dsn(pg_server.admin_dsn, owner_dsn), autocommit=True) as admin:
        admin.execute(USERS)
        admin.execute(sql.SQL("ALTER TABLE users OWNER TO {}").format(sql.Identifier(other)))
    user = owner_conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    assert refusal(owner_dsn) == (
        f"m.yaml: operations[0] (add_column): field 'table': role {user} does not own table public.users "
        f"(its owner is {other}): the worker's role must own the tables it migrates (or be a member of their "
        "owner), as ALTER TABLE requires"
    )


def test_a_worker_that_may_not_create_schemas_is_refused(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    weak = make_role("weak", dsn)  # owns the table, but not the database
    conn.execute(USERS)
    conn.execute(sql.SQL("ALTER TABLE users OWNER TO {}").format(sql.Identifier(weak)))
    message = refusal(psycopg.conninfo.make_conninfo(dsn, user=weak))
    database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    assert message == (
        f"m.yaml: field 'schema': role {weak} may not create schemas in database {database}, and liveshift "
        f"creates the version schemas: GRANT CREATE ON DATABASE {database} TO {weak}"
    )


def test_a_worker_that_cannot_see_other_sessions_is_refused(
    owner_dsn: str, owner_conn: psycopg.Connection, pg_server: PostgresServer
) -> None:
    """Without pg_read_all_stats, pg_stat_activity hides how long other roles' transactions have been open,
    which the zero-stall executor must see."""
    owner_conn.execute(USERS)
    user = owner_conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("REVOKE pg_read_all_stats FROM {}").format(sql.Identifier(user)))
        try:
            message = refusal(owner_dsn)
        finally:
            admin.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(user)))
    assert message == (
        f"m.yaml: field 'schema': role {user} cannot see other sessions' transactions in pg_stat_activity: a "
        "lock-taking step waits outside the lock queue while an old transaction holds a conflicting lock, and must "
        f"see how long each has been open: GRANT pg_read_all_stats TO {user} (pg_monitor includes it)"
    )


def test_forced_row_level_security_without_bypassrls_is_refused(owner_dsn: str, owner_conn: psycopg.Connection) -> None:
    owner_conn.execute(USERS)
    owner_conn.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY")
    assert refusal(owner_dsn).startswith(
        "m.yaml: field 'schema': table public.users forces row-level security on its owner"
    )


def test_liveshift_state_created_by_another_role_is_refused_clearly(
    owner_dsn: str, owner_conn: psycopg.Connection, pg_server: PostgresServer
) -> None:
    owner_conn.execute(USERS)
    with psycopg.connect(superuser_dsn(pg_server.admin_dsn, owner_dsn), autocommit=True) as admin:
        admin.execute("CREATE SCHEMA liveshift")  # e.g. a first run as the superuser
    user = owner_conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    with open_session(owner_dsn) as c, pytest.raises(SpecError) as refused:
        phases.prepare(c, migration(ADD_COLUMN), file="m.yaml")
    assert str(refused.value) == (
        f"m.yaml: field 'schema': role {user} may not use and create in schema liveshift (its internal state): "
        "grant it both, or own it"
    )


def test_the_owner_role_of_tables_the_worker_migrates_as_a_member_uses_the_versions(
    owner_dsn: str, owner_conn: psycopg.Connection, make_role: Callable[..., str], pg_server: PostgresServer
) -> None:
    app_owner = make_role("app_owner", owner_dsn)
    worker = owner_conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(superuser_dsn(pg_server.admin_dsn, owner_dsn), autocommit=True) as admin:
        admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(app_owner), sql.Identifier(worker)))
    seed(owner_conn, rows=20)
    owner_conn.execute(
        sql.SQL("GRANT CREATE ON SCHEMA public TO {o}; ALTER TABLE users OWNER TO {o}").format(
            o=sql.Identifier(app_owner)
        )
    )
    m = migration(ADD_COLUMN)
    with open_session(owner_dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    app_dsn = psycopg.conninfo.make_conninfo(owner_dsn, user=app_owner)
    with psycopg.connect(app_dsn, autocommit=True, options=f"-c search_path={GREEN}") as green:
        green.execute("INSERT INTO users (email, email_lower) VALUES ('Owner@X.org', 'owner@x.org')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (21,)
