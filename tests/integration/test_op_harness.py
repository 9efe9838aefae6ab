"""The scenario harness's application role: what it may and may not do on the physical tables."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.db import client
from tests.harness.operations.columns import RENAME_NAME
from tests.harness.scenario import Run, Table, app_login, count, load_tables

pytestmark = pytest.mark.integration

USERS = Table("users", "id bigserial PRIMARY KEY, email text NOT NULL", rows=3, values={"email": "'u' || g"})


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return count(conn, "SELECT count(*) FROM pg_roles WHERE rolname = %s", role) == 1


def test_app_role_writes_the_physical_tables_and_owns_nothing(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, (USERS,))
    with app_login(conn) as role, client(dsn, None, user=role) as app:
        assert app.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").fetchone() == (
            role,
            False,
        )
        app.execute("INSERT INTO users (email) VALUES ('new')")  # the sequence's USAGE is enough for nextval
        app.execute("UPDATE users SET email = 'changed' WHERE email = 'new'")
        app.execute("DELETE FROM users WHERE id = 1")
        assert count(app, "SELECT count(*) FROM users") == 3
        for ddl in ("ALTER TABLE users ADD COLUMN x int", "CREATE INDEX users_email ON users (email)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(ddl)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("TRUNCATE users")
    assert not _role_exists(conn, role)


def test_a_run_connects_both_clients_as_the_app_role_by_default(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, RENAME_NAME) as run:
        assert run.user is not None and _role_exists(conn, run.user)
        for side in (run.blue, run.green):
            assert side.execute("SELECT current_user").fetchone() == (run.user,)
    assert not _role_exists(conn, run.user)
