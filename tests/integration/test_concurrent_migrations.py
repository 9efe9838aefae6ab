"""Several migrations in flight on one schema (issue 25, part 3): two migrations of disjoint tables, each
completed or rolled back while the other is in flight, with applications writing through the blue version and
both greens as a login role that owns nothing (tests/harness/scenario.app_login). A migrates `accounts` (a new
column filled by a backfill and the dual-write trigger), B migrates `orders` (a column renamed: no trigger).

Each version shows every table in one of two shapes (A's old or new, B's old or new); after every step each
version that still exists writes a tagged row into both tables and reads back every row acknowledged so far."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError, VersionsBusy
from liveshift.store import record as records
from liveshift.store.schema import bootstrap
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    ROLLBACK,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    RollbackRequest,
)
from tests.harness.db import backfill_all, client, migration, snapshot
from tests.harness.scenario import app_login, no_leftovers
from tests.harness.temporal import TemporalServer, WorkerHandle, wait_for_phase

pytestmark = pytest.mark.integration

A = migration("""
name: accounts_lower
operations:
  - op: add_column
    table: accounts
    column: {name: email_lower, type: text}
    up: lower(email)
""")
B = migration("""
name: orders_memo
operations:
  - op: rename_column
    table: orders
    column: note
    to: memo
""")
BASE, GREEN_A, GREEN_B = "public_base", "public_accounts_lower", "public_orders_memo"


class Apps:
    """Writes and reads through each version, as the login role `user`, knowing which shape each version shows."""

    def __init__(self, dsn: str, user: str) -> None:
        self.dsn, self.user = dsn, user
        self.acked: list[int] = []
        # version -> (shows A's new shape, shows B's new shape)
        self.shapes: dict[str, tuple[bool, bool]] = {BASE: (False, False)}

    def exchange(self) -> None:
        for version, shape in list(self.shapes.items()):
            tag = max(self.acked, default=0) + 1
            with client(self.dsn, version, user=self.user, fallback=False) as conn:
                write(conn, tag, *shape)
                self.acked.append(tag)
        for version, shape in self.shapes.items():
            with client(self.dsn, version, user=self.user, fallback=False) as conn:
                sees(conn, self.acked, *shape)


def write(conn: psycopg.Connection, tag: int, a_new: bool, b_new: bool) -> None:
    email = f"T{tag}@Example.org"
    if a_new:
        conn.execute("INSERT INTO accounts (email, email_lower) VALUES (%s, lower(%s))", (email, email))
    else:
        conn.execute("INSERT INTO accounts (email) VALUES (%s)", (email,))
    # green is the source of its new column: its application sets it as it updates the email
    new = ", email_lower = lower('U' || id || '@Example.org')" if a_new else ""
    conn.execute(f"UPDATE accounts SET email = 'U' || id || '@Example.org'{new} WHERE id = %s", (tag % 50 + 1,))
    note = "memo" if b_new else "note"
    conn.execute(f"INSERT INTO orders (amount, {note}) VALUES (%s, %s)", (tag, f"n{tag}"))


def sees(conn: psycopg.Connection, tags: list[int], a_new: bool, b_new: bool) -> None:
    emails = {r[0] for r in conn.execute("SELECT email FROM accounts")}
    assert {f"T{t}@Example.org" for t in tags} <= emails
    if a_new:  # every row written meanwhile (and, after the backfill, every row), whoever wrote it, is right
        wrong = "(email_lower IS NOT NULL OR email LIKE 'T%') AND email_lower IS DISTINCT FROM lower(email)"
        assert conn.execute(f"SELECT count(*) FROM accounts WHERE {wrong}").fetchone() == (0,)
    else:
        assert "email_lower" not in columns(conn, "accounts")
    note = "memo" if b_new else "note"
    assert columns(conn, "orders") == ["id", "amount", note]
    notes = {r[0]: r[1] for r in conn.execute(f"SELECT amount, {note} FROM orders")}
    assert all(notes.get(t) == f"n{t}" for t in tags)


def columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [d.name for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description or []]


@pytest.fixture
def apps(dsn: str, conn: psycopg.Connection) -> Iterator[Apps]:
    conn.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute("INSERT INTO accounts (email) SELECT 'User' || g || '@Example.org' FROM generate_series(1, 300) g")
    conn.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, amount int NOT NULL, note text)")
    conn.execute("INSERT INTO orders (amount, note) SELECT g, 'n' || g FROM generate_series(-300, -1) g")
    with app_login(conn) as user:
        yield Apps(dsn, user)


@contextmanager
def session(dsn: str) -> Iterator[psycopg.Connection]:
    with open_session(dsn) as c:
        yield c


def both_through_verify(dsn: str, apps: Apps) -> None:
    """A and B prepared, expanded, backfilled and verified side by side; B prepared once A's expand ran."""
    with session(dsn) as c:
        phases.prepare(c, A)
        phases.expand(c, A.name)
        apps.shapes[GREEN_A] = (True, False)
        apps.exchange()
        phases.prepare(c, B)
        phases.expand(c, B.name)
        apps.shapes[GREEN_B] = (False, True)
        apps.exchange()
        assert records.find(c, B.name).blue_version == BASE  # type: ignore[union-attr]
    for m in (A, B):
        backfill_all(dsn, m.name)
        with session(dsn) as c:
            phases.validate_constraints(c, m.name)
            assert phases.verify(c, m.name).ok
    apps.exchange()


def cutover(dsn: str, name: str) -> None:
    with session(dsn) as c:
        phases.cutover(c, name)


def contract(dsn: str, name: str) -> None:
    with session(dsn) as c:
        phases.try_contract(c, name)
        phases.contract(c, name)


def rollback(dsn: str, name: str) -> None:
    with session(dsn) as c:
        phases.rollback(c, name)
        phases.rollback(c, name)  # twice equals once


def current_version(conn: psycopg.Connection) -> str | None:
    return records.current_version(conn, "public")


def test_a_completes_while_b_is_in_flight_then_b_completes(dsn: str, conn: psycopg.Connection, apps: Apps) -> None:
    # an install made before several migrations could be in flight: its unique index goes at the next bootstrap
    bootstrap(conn)
    conn.execute(
        "CREATE UNIQUE INDEX migrations_one_in_flight_per_schema ON liveshift.migrations (schema_name) "
        "WHERE status NOT IN ('complete', 'rolled_back')"
    )
    both_through_verify(dsn, apps)
    assert conn.execute("SELECT to_regclass('liveshift.migrations_one_in_flight_per_schema')").fetchone() == (None,)

    cutover(dsn, A.name)
    apps.exchange()
    with session(dsn) as c, pytest.raises(VersionsBusy, match="'accounts_lower' holds schema 'public'"):
        phases.cutover(c, B.name)  # one candidate version at a time: B's cutover waits for A's contract
    contract(dsn, A.name)
    # A's green is the current version, and B's blue; B's green shows accounts in A's final shape
    del apps.shapes[BASE]
    apps.shapes[GREEN_B] = (True, True)
    apps.exchange()
    assert current_version(conn) == GREEN_A
    with session(dsn) as c:
        assert records.find(c, B.name).blue_version == GREEN_A  # type: ignore[union-attr]

    cutover(dsn, B.name)
    apps.exchange()
    contract(dsn, B.name)
    del apps.shapes[GREEN_A]
    apps.exchange()
    assert current_version(conn) == GREEN_B
    assert no_leftovers(conn, BASE) and no_leftovers(conn, GREEN_A)
    tables = snapshot(conn)
    assert [c[0] for c in tables["accounts"]["columns"]] == ["email", "email_lower", "id"]
    assert [c[0] for c in tables["orders"]["columns"]] == ["amount", "id", "memo"]
    assert conn.execute("SELECT count(*) FROM accounts WHERE email_lower IS DISTINCT FROM lower(email)").fetchone() == (
        0,
    )
    # a later migration's blue is the version both left behind
    later = migration("name: later\noperations:\n  - {op: add_column, table: orders, column: {name: x, type: int}}")
    with session(dsn) as c:
        assert preflight.validate(c, later).blue == GREEN_B


def test_b_rolled_back_while_a_is_in_flight_then_a_completes(dsn: str, conn: psycopg.Connection, apps: Apps) -> None:
    both_through_verify(dsn, apps)
    before_b = snapshot(conn)["orders"]
    cutover(dsn, A.name)
    apps.exchange()
    rollback(dsn, B.name)  # B's green writes (into `memo`, stored in `note`) stay
    del apps.shapes[GREEN_B]
    apps.exchange()
    assert snapshot(conn)["orders"] == before_b
    assert conn.execute("SELECT to_regnamespace(%s)", (GREEN_B,)).fetchone() == (None,)
    contract(dsn, A.name)
    del apps.shapes[BASE]
    apps.exchange()
    assert current_version(conn) == GREEN_A and no_leftovers(conn, BASE) and no_leftovers(conn, GREEN_B)
    assert [c[0] for c in snapshot(conn)["orders"]["columns"]] == ["amount", "id", "note"]


def test_a_rolled_back_while_b_is_cut_over_keeps_the_shared_blue(
    dsn: str, conn: psycopg.Connection, apps: Apps
) -> None:
    """A created the schema's base version (its first migration); B, in flight, uses it too: A's rollback keeps it."""
    both_through_verify(dsn, apps)
    cutover(dsn, B.name)
    apps.exchange()
    rollback(dsn, A.name)
    del apps.shapes[GREEN_A]
    apps.exchange()
    assert "email_lower" not in [c[0] for c in snapshot(conn)["accounts"]["columns"]]
    assert current_version(conn) == BASE
    with session(dsn) as c:  # B's green is still the candidate: A's rollback left it alone
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN_B,)
    contract(dsn, B.name)
    del apps.shapes[BASE]
    apps.exchange()
    assert current_version(conn) == GREEN_B and no_leftovers(conn, BASE)


@pytest.mark.parametrize(
    ("link", "second", "table"),
    [
        # the same table
        (
            None,
            "name: other\noperations:\n  - {op: add_column, table: accounts, column: {name: x, type: int}}",
            "accounts",
        ),
        # a foreign key between the two tables
        ("ALTER TABLE orders ADD COLUMN account_id bigint REFERENCES accounts (id)", B, "accounts"),
        # an object that reads both (contract would carry it through from either migration)
        (
            "CREATE VIEW account_orders AS SELECT a.email, o.note FROM accounts a JOIN orders o ON o.id = a.id",
            B,
            "accounts",
        ),
    ],
    ids=["same-table", "foreign-key", "view-over-both"],
)
def test_overlapping_migrations_are_refused_at_plan(
    dsn: str, conn: psycopg.Connection, apps: Apps, link: str | None, second: object, table: str
) -> None:
    if link:
        conn.execute(link)
    with session(dsn) as c:
        phases.prepare(c, A)
        phases.expand(c, A.name)
    other = second if not isinstance(second, str) else migration(second)
    for call in (preflight.validate, phases.prepare):
        with session(dsn) as c, pytest.raises(SpecError) as refused:
            call(c, other, "second.yaml")  # type: ignore[operator]
        assert refused.value.field == "operations"
        assert str(refused.value) == (
            f"second.yaml: field 'operations': migration 'accounts_lower' is still in flight on schema 'public' and "
            f"changes or reads table {table!r}, which this migration changes or reads; finish or roll it back first"
        )
    with session(dsn) as c:
        assert records.in_flight(c, "public") == [A.name]


@pytest.mark.timeout(180)
async def test_two_workflows_on_one_schema(
    dsn: str, conn: psycopg.Connection, apps: Apps, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    """Two MigrationWorkflows in flight on one schema: B's cutover waits (its activity retried) while A holds the
    candidate version; B is rolled back from there while A waits at its contract gate; then A completes."""
    options = MigrationOptions(auto_cutover=True, progress_interval_s=0.5)
    queue = liveshift_worker.task_queue
    start = [MigrationInput(target=liveshift_worker.target, migration=m, options=options) for m in (A, B)]
    first = await start_migration(temporal.client, start[0], queue)
    await wait_for_phase(first, "awaiting_contract")
    second = await start_migration(temporal.client, start[1], queue)
    await wait_for_phase(second, "cutover")
    apps.shapes |= {GREEN_A: (True, False), GREEN_B: (False, True)}
    await asyncio.to_thread(apps.exchange)
    assert conn.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN_A,)

    await second.execute_update(ROLLBACK, RollbackRequest(reason="B goes back"), result_type=str)
    assert (await second.result()).phase == "rolled_back"
    del apps.shapes[GREEN_B]
    await asyncio.to_thread(apps.exchange)

    await first.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    assert (await first.result()).phase == "complete"
    del apps.shapes[BASE]
    await asyncio.to_thread(apps.exchange)
    assert current_version(conn) == GREEN_A and no_leftovers(conn, GREEN_B)
    assert [c[0] for c in snapshot(conn)["orders"]["columns"]] == ["amount", "id", "note"]


D = migration("""
name: orders_renamed
operations:
  - {op: rename_table, table: orders, to: purchases}
  - {op: drop_table, table: legacy}
""")
GREEN_D = "public_orders_renamed"


@pytest.mark.parametrize("a_expanded", [False, True], ids=["a-expands-after", "a-expanded-before"])
def test_a_table_renamed_and_one_dropped_by_a_migration_that_completes_while_another_is_in_flight(
    dsn: str, conn: psycopg.Connection, apps: Apps, a_expanded: bool
) -> None:
    """A and D prepared before either expanded (both would create the base version); D, which renames a table
    and drops another, completes first. A expands either afterwards, from the snapshot D handed over, or before
    D's contract, whose hand-over then renames and drops the views of A's green."""
    conn.execute("CREATE TABLE legacy (id int PRIMARY KEY)")
    with session(dsn) as c:
        phases.prepare(c, A)
        phases.prepare(c, D)
        phases.expand(c, D.name)
        if a_expanded:
            phases.expand(c, A.name)
    with client(dsn, GREEN_D, user=apps.user, fallback=False) as green:
        green.execute("INSERT INTO purchases (amount, note) VALUES (1, 'via D')")
        assert columns(green, "purchases") == ["id", "amount", "note"]
    for step in (phases.verify, phases.cutover):
        with session(dsn) as c:
            step(c, D.name)
    contract(dsn, D.name)
    with session(dsn) as c:
        record = records.find(c, A.name)
        assert record is not None and record.blue_version == GREEN_D and not record.created_blue
        assert set(record.catalog_before.tables) == {"accounts", "purchases"}
        if not a_expanded:
            phases.expand(c, A.name)  # its green shows purchases, never orders or legacy
    with client(dsn, GREEN_A, user=apps.user, fallback=False) as green:
        relations = {
            r[0]
            for r in green.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (GREEN_A,)
            )
        }
        assert relations == {"accounts", "purchases"}
        green.execute("INSERT INTO purchases (amount, note) VALUES (2, 'via A')")
        green.execute("INSERT INTO accounts (email, email_lower) VALUES ('Z@X.org', 'z@x.org')")
    backfill_all(dsn, A.name)
    with session(dsn) as c:
        for step in (phases.validate_constraints, phases.verify, phases.cutover):
            step(c, A.name)
    contract(dsn, A.name)
    assert current_version(conn) == GREEN_A and no_leftovers(conn, GREEN_D) and no_leftovers(conn, BASE)
    assert conn.execute("SELECT note FROM purchases WHERE amount IN (1, 2) ORDER BY amount").fetchall() == [
        ("via D",),
        ("via A",),
    ]
