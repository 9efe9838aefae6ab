"""liveshift.client against the real PostgreSQL: the flag, its cache, the search_path, the errors, and
psycopg_pool's callbacks under a running application that follows a cutover and a rollback."""

from __future__ import annotations

import itertools
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from liveshift import phases
from liveshift.client import ClientError, NoVersion, VersionRouter, VersionUnavailable
from liveshift.client.for_psycopg_pool import pool_callbacks
from liveshift.connections import open_session
from liveshift.store.schema import bootstrap
from tests.harness.client_app import (
    BASELINE,
    BLUE,
    GREEN,
    MIGRATION,
    USERS,
    RunningApp,
    cut_over,
    expanded,
    kept,
    roll_back,
    write,
)
from tests.harness.db import backfill_all, complete
from tests.harness.scenario import app_login, expand, load_tables

pytestmark = pytest.mark.integration


class Clock:
    """A clock the test moves: the cache's expiry is a mechanism, not a race."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _search_path(conn: psycopg.Connection) -> str:
    row = conn.execute("SHOW search_path").fetchone()
    if not conn.autocommit:
        conn.rollback()
    assert row is not None
    return str(row[0])


def test_client_imports_no_temporal() -> None:
    code = "import sys, liveshift.client, liveshift.client.for_psycopg_pool; print('temporalio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_flag_is_cached_for_its_ttl_then_followed(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    clock = Clock()
    router = VersionRouter(key="app-1", ttl=10, clock=clock)
    with psycopg.connect(dsn) as app:  # not autocommit: what the router sets must survive the transaction
        assert router.point(app) == BLUE
        assert _search_path(app) == '"public_users_baseline", pg_catalog'
        write(app, BLUE, 1)
        app.commit()
        cut_over(dsn)
        # within the ttl the cached reading stands; once it has expired the next checkout follows the flag
        clock.now += 9.9
        assert router.point(app) == BLUE
        clock.now += 0.1
        assert router.point(app) == router.version_of(app) == GREEN
        assert _search_path(app) == '"public_users_full_name", pg_catalog'
        write(app, GREEN, 2)
        app.commit()
        roll_back(dsn)
        # this connection was checked against the flag less than a ttl ago: it still names green, whose
        # views are gone, and its writes fail rather than reach the physical table
        assert router.point(app) == GREEN
        with pytest.raises(psycopg.errors.UndefinedTable):
            write(app, GREEN, 3)
        app.rollback()
        # a connection pointed now finds green gone and reads the flag again at once
        with psycopg.connect(dsn) as other:
            assert router.point(other) == BLUE
        clock.now += 10
        assert router.point(app) == BLUE
        write(app, BLUE, 4)
        app.commit()
    kept(conn, [1, 2, 4])


def test_the_version_schema_only_never_the_physical_table(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    conn.execute("CREATE TABLE public.only_physical (id int)")  # no view of it in any version
    router = VersionRouter(key="app-1")
    with psycopg.connect(dsn, autocommit=True) as app:
        router.point(app)
        with pytest.raises(psycopg.errors.UndefinedTable):
            app.execute("SELECT * FROM only_physical")
        assert app.execute("SELECT count(*) FROM users").fetchone() == (100,)  # the view; pg_catalog resolves


def test_a_canary_share_splits_keys_stably(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    with open_session(dsn) as c:
        backfill_all(dsn, MIGRATION.name)
        phases.validate_constraints(c, MIGRATION.name)
        assert phases.verify(c, MIGRATION.name).ok
        phases.cutover(c, MIGRATION.name, percent=30)
    router = VersionRouter(ttl=60)
    with psycopg.connect(dsn, autocommit=True) as app:
        versions = {f"user-{i}": router.point(app, key=f"user-{i}") for i in range(400)}
        again = {key: router.point(app, key=key) for key in itertools.islice(versions, 50)}
    greens = sum(v == GREEN for v in versions.values())
    assert 90 <= greens <= 150, greens  # 30% of 400 keys, within the spread of a hash
    assert all(versions[key] == version for key, version in again.items())


def test_a_pinned_version_that_was_contracted_is_a_clear_error(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    router = VersionRouter(pin=BLUE)
    with psycopg.connect(dsn, autocommit=True) as app:
        assert router.point(app) == BLUE
        cut_over(dsn)
        with open_session(dsn) as c:
            phases.contract(c, MIGRATION.name)
        with psycopg.connect(dsn, autocommit=True) as late:
            with pytest.raises(VersionUnavailable) as err:
                router.point(late)
            assert err.value.missing and (err.value.schema, err.value.version) == ("public", BLUE)
            assert "'public_users_baseline' of schema 'public' does not exist" in str(err.value)
            with pytest.raises(VersionUnavailable):
                router.version_of(late)
            # the failed connection resolves no application relation: no fallback to the table
            with pytest.raises(psycopg.errors.UndefinedTable):
                late.execute("SELECT * FROM users")


def test_a_role_without_usage_on_the_version_is_a_clear_error(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    with app_login(conn) as role, psycopg.connect(dsn, user=role, autocommit=True) as app:
        with pytest.raises(NoVersion, match=f"role '{role}' may not read the flag"):
            VersionRouter().point(app)
        grant = (
            "GRANT USAGE ON SCHEMA liveshift TO {role}; "
            "GRANT EXECUTE ON FUNCTION liveshift.version_for(text, text) TO {role}"
        )
        conn.execute(sql.SQL(grant).format(role=sql.Identifier(role)))  # enough to read the flag
        with pytest.raises(VersionUnavailable) as err:
            VersionRouter().point(app)
        assert not err.value.missing
        assert f"cannot be used by role '{role}': it lacks USAGE on schema 'public_users_baseline'" in str(err.value)
        with pytest.raises(psycopg.errors.UndefinedTable):  # though the role may read the physical table
            app.execute("SELECT * FROM users")


def test_an_application_role_follows_the_flag_with_the_grants_liveshift_gave_it(
    dsn: str, conn: psycopg.Connection
) -> None:
    """A role holding only its table privileges before expand: the synchronisation lets it read the flag and
    use both versions, with nothing granted by hand."""
    load_tables(conn, (USERS,))
    with app_login(conn) as role:
        complete(dsn, BASELINE)
        expand(dsn, MIGRATION)
        router = VersionRouter(ttl=0)
        with psycopg.connect(dsn, user=role, autocommit=True) as app:
            assert router.point(app) == BLUE
            write(app, BLUE, 1)
            cut_over(dsn)
            assert router.point(app) == GREEN
            write(app, GREEN, 2)
    kept(conn, [1, 2])


def test_no_version_before_liveshift_or_a_migration(dsn: str, conn: psycopg.Connection) -> None:
    with psycopg.connect(dsn, autocommit=True) as app:
        with pytest.raises(NoVersion, match="not installed"):
            VersionRouter().point(app)
        bootstrap(conn)
        with pytest.raises(NoVersion, match="no migration has registered it"):
            VersionRouter().point(app)
        with pytest.raises(ClientError, match=r"not set up by liveshift\.client"):
            VersionRouter().version_of(psycopg.connect(dsn))
    with pytest.raises(ValueError, match="ttl"):
        VersionRouter(ttl=-1)


def test_a_pooled_application_follows_cutover_and_rollback_and_loses_no_write(
    dsn: str, conn: psycopg.Connection
) -> None:
    expanded(dsn, conn)
    router = VersionRouter(key="app-1", ttl=0.05)
    with ConnectionPool(dsn, min_size=2, max_size=2, open=True, **pool_callbacks(router)) as pool:

        def request(tag: int) -> str:
            with pool.connection() as app:
                version = router.version_of(app)
                write(app, version, tag)
                return version

        with RunningApp(request) as running:
            running.served(BLUE)
            cut_over(dsn)
            after_cutover = running.served(GREEN)
            roll_back(dsn)
            running.served(BLUE, after=after_cutover)
    versions = [version for version, _ in itertools.groupby(v for _, v in running.acked)]
    assert versions == [BLUE, GREEN, BLUE]
    kept(conn, running.tags)
