"""A fleet's members named by a query on real PostgreSQL: database per tenant (30 databases), schema per tenant,
and the queries refused (a write, a column that is not text, no rows, a failing query)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from liveshift.errors import SpecError
from liveshift.fleet import members
from liveshift.fleet.members import MemberQuery, MemberSelector, member_dsn, resolve
from tests.harness.fleet import many_databases
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration
TENANTS = 30


@pytest.fixture
def tenant_databases(pg_server: PostgresServer) -> Iterator[list[str]]:
    with many_databases(pg_server, TENANTS) as names:
        yield names


def by_query(query: str, kind: str = "database") -> MemberSelector:
    return MemberSelector(query=MemberQuery(target="app", sql=query, kind=kind))


def test_a_query_names_thirty_tenant_databases(conn: psycopg.Connection, dsn: str, tenant_databases: list[str]) -> None:
    prefix = tenant_databases[0].split("_")[0]
    query = f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}%' ORDER BY random()"
    members = resolve(lambda target: conn, ["app", "other"], by_query(query))
    assert [m.database for m in members] == tenant_databases  # sorted by key, whatever order the rows came in
    assert [m.key for m in members] == [f"app/{name}" for name in tenant_databases]
    assert {m.target for m in members} == {"app"}
    for member in members:  # each member's DSN reaches its own database
        with psycopg.connect(member_dsn(dsn, member)) as member_conn:
            assert member_conn.execute("SELECT current_database()").fetchone() == (member.database,)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_query_names_the_schemas_of_a_schema_per_tenant_database(conn: psycopg.Connection) -> None:
    for i in range(3):
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(f"tenant_{i}")))
    conn.execute('CREATE SCHEMA "Tenant Odd"')
    query = "SELECT nspname FROM pg_namespace WHERE nspname ILIKE 'tenant%'"
    members = resolve(lambda target: conn, ["app"], by_query(query, kind="schema"))
    assert [m.schema_name for m in members if m.schema_name != "Tenant Odd"] == ["tenant_0", "tenant_1", "tenant_2"]
    odd = next(m for m in members if m.schema_name == "Tenant Odd")
    assert odd.key.startswith("app/Tenant_Odd-") and odd.database is None


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("INSERT INTO names VALUES ('x') RETURNING name", "is not a read"),
        ("SELECT nextval('seq')::text", "is not a read"),
        ("SELECT 1", "returns a column of type int4, not text"),
        ("SELECT 'a'::text, 'b'::text", "exactly one column"),
        ("SELECT name FROM names WHERE false", "returned no rows"),
        ("SELECT NULL::text", "empty or NULL name"),
        ("SELECT nope FROM names", 'failed: column "nope" does not exist'),
    ],
)
def test_bad_member_queries_are_refused_and_write_nothing(conn: psycopg.Connection, query: str, words: str) -> None:
    conn.execute("CREATE TABLE names (name text); CREATE SEQUENCE seq")
    with pytest.raises(SpecError) as refused:
        resolve(lambda target: conn, ["app"], by_query(query))
    assert refused.value.field == "query.sql" and "query on target 'app'" in str(refused.value)
    assert words in str(refused.value)
    assert conn.execute("SELECT count(*) FROM names").fetchone() == (0,)
    assert conn.execute("SELECT last_value, is_called FROM seq").fetchone() == (1, False)


def test_a_query_on_an_unknown_target_is_refused_before_connecting(conn: psycopg.Connection) -> None:
    selector = MemberSelector(query=MemberQuery(target="nope", sql="SELECT 'a'"))
    with pytest.raises(SpecError, match="unknown target 'nope'"):
        resolve(lambda target: pytest.fail("connected"), ["app"], selector)


def test_a_slow_member_query_is_refused_within_its_timeout(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(members, "QUERY_TIMEOUT_MS", 200)
    with pytest.raises(SpecError, match=r"ran over 0\.2 s"):
        resolve(lambda target: conn, ["app"], by_query("SELECT pg_sleep(5)::text"))
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
