"""The scenario harness every operation's tests share.

A `Scenario` is one migration file with the tables it runs on (declared as `Table`s), the plain
statements it stands for, and how each version writes a tagged row and reads tagged rows back.
A `Run` drives it through the phases with a blue and a green client: at each phase both clients
write and then read every write acknowledged so far (`Run.exchange`), and contract and rollback
check the catalog and that every acknowledged write is in the physical tables. Green writes odd
tags, blue even ones, so a `sees` check can tell whose rows must be where (`blue_tags`).

`app_role` (on by default, as issue 10 asks): the clients connect as a login role that owns nothing
and holds only SELECT, INSERT, UPDATE, DELETE on the physical tables (those the migration creates
too, by default privileges) and USAGE on their sequences, as an application would; everything it
may do on the versions, liveshift's grants synchronisation gave it (docs/privileges.md). The role is
created by the superuser ($LIVESHIFT_TEST_ADMIN_DSN), so the worker's own role may be a non-superuser
owner (LIVESHIFT_TEST_WORKER_ROLE, tests/conftest.py).

The phase steps (`STEPS`, `advance`) also drive tests that bring their own roles (privileges, RLS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import TracebackType

import psycopg
from psycopg import sql

from liveshift import phases
from liveshift.connections import open_session
from liveshift.spec import Migration
from liveshift.versions.schemas import version_schema
from tests.harness.db import backfill_all, client, migration, plain_alter_snapshot, snapshot
from tests.harness.postgres import admin_dsn, create_login_role, drop_role

APP_ROLE_BY_DEFAULT = True

BLUE = "public_base"
PHASES_BEFORE_CONTRACT = ("expand", "backfill", "verify", "cutover")

Write = Callable[[psycopg.Connection, int], None]
Sees = Callable[[psycopg.Connection, list[int]], None]  # asserts the rows of these tags are visible


@dataclass(frozen=True)
class Table:
    """A table as CREATE TABLE declares it, with `rows` rows whose columns are SQL expressions of g (1..rows)."""

    name: str
    columns: str  # column and table-constraint definitions
    rows: int = 0
    values: dict[str, str] = field(default_factory=dict)
    then: tuple[str, ...] = ()  # statements run after the table is created (indexes, partitions, say)
    options: str = ""  # what follows the columns (PARTITION BY …)
    first: tuple[str, ...] = ()  # statements run before the table is created (the types it uses, say)

    def create(self) -> sql.Composed:
        statements = [sql.SQL(statement) for statement in self.first]
        statements.append(
            sql.SQL("CREATE TABLE {} ({}) {}").format(
                sql.Identifier(self.name), sql.SQL(self.columns), sql.SQL(self.options)
            )
        )
        statements += [sql.SQL(statement) for statement in self.then]
        return sql.SQL("; ").join(statements)

    def fill(self) -> sql.Composed | None:
        if not self.rows:
            return None
        return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) g").format(
            sql.Identifier(self.name),
            sql.SQL(", ").join(sql.Identifier(column) for column in self.values),
            sql.SQL(", ").join(sql.SQL(expression) for expression in self.values.values()),
            sql.Literal(self.rows),
        )


def setup_sql(tables: tuple[Table, ...]) -> sql.Composed:
    return sql.SQL("; ").join(table.create() for table in tables)


def load_tables(conn: psycopg.Connection, tables: tuple[Table, ...]) -> None:
    conn.execute(setup_sql(tables))
    for table in tables:
        rows = table.fill()
        if rows is not None:
            conn.execute(rows)


@dataclass(frozen=True)
class Side:
    """How one version writes a row tagged n, and checks that rows of given tags are visible to it."""

    write: Write
    sees: Sees


@dataclass(frozen=True)
class Scenario:
    tables: tuple[Table, ...]
    migration: str  # the migration file (YAML)
    plain: str  # the plain statements it stands for
    blue: Side
    green: Side

    @property
    def m(self) -> Migration:
        return migration(self.migration)

    @property
    def green_version(self) -> str:
        return version_schema("public", self.m.name)

    def setup(self, conn: psycopg.Connection) -> str:
        return setup_sql(self.tables).as_string(conn)


def _verify(dsn: str, m: Migration) -> None:
    with open_session(dsn) as c:
        phases.validate_constraints(c, m.name)
        report = phases.verify(c, m.name)
    assert report.ok, report.summary()


def _cutover(dsn: str, m: Migration) -> None:
    with open_session(dsn) as c:
        phases.cutover(c, m.name)
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == (version_schema("public", m.name),)


def expand(dsn: str, m: Migration) -> None:
    """Prepare and expand (alone: for tests of what happens outside a `Run`, failures and refusals)."""
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)


def contract(dsn: str, m: Migration) -> None:
    """Contract as the workflow runs it: tried in a rolled-back transaction first (nothing may fail there that
    contract itself would not), then for real."""
    with open_session(dsn) as c:
        phases.try_contract(c, m.name)
        phases.contract(c, m.name)


# each phase before contract, as the workflow runs it
STEPS: dict[str, Callable[[str, Migration], None]] = {
    "expand": expand,
    "backfill": lambda dsn, m: backfill_all(dsn, m.name),
    "verify": _verify,
    "cutover": _cutover,
}


def advance(dsn: str, m: Migration, last: str, after: str | None = None) -> None:
    """Run the phases after `after` (None: from expand) up to `last`."""
    first = 0 if after is None else PHASES_BEFORE_CONTRACT.index(after) + 1
    for phase in PHASES_BEFORE_CONTRACT[first : PHASES_BEFORE_CONTRACT.index(last) + 1]:
        STEPS[phase](dsn, m)


def blue_tags(tags: list[int]) -> list[int]:
    return [t for t in tags if t % 2 == 0]


def same_side(write: Write, sees: Sees) -> tuple[Side, Side]:
    """Blue and green write and read alike (the migration leaves the columns they use alone)."""
    return Side(write, sees), Side(write, sees)


_APP_GRANTS = (
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {r}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {r}",
)


@contextmanager
def app_login(conn: psycopg.Connection) -> Iterator[str]:
    """A login role that owns nothing: DML on the physical tables, USAGE on their sequences, and the same on
    those `conn`'s role (the tables' owner, the worker's role) creates later, as an application is given."""
    admin = admin_dsn()
    role = create_login_role(admin, "ls_app")
    try:
        for grant in _APP_GRANTS:
            conn.execute(sql.SQL(grant).format(r=sql.Identifier(role)))
        yield role
    finally:
        drop_role(admin, conn.info.dbname, role)  # its grants in this database, then the role


class Run:
    """One scenario driven phase by phase with a blue and a green client (use as a context manager)."""

    def __init__(self, dsn: str, conn: psycopg.Connection, scenario: Scenario, app_role: bool = APP_ROLE_BY_DEFAULT):
        self.dsn, self.conn, self.s, self.m = dsn, conn, scenario, scenario.m
        self.app_role = app_role
        self.acked: list[int] = []  # tags whose write returned
        self.phases: list[str] = []
        self.exchanged: set[str] = set()
        self.user: str | None = None
        self._resources = ExitStack()

    def __enter__(self) -> Run:
        load_tables(self.conn, self.s.tables)
        self.before = snapshot(self.conn)
        if self.app_role:
            self.user = self._resources.enter_context(app_login(self.conn))
        # no fallback to public: a write that misses its version's view fails instead of reaching the table
        self.blue = self._resources.enter_context(client(self.dsn, BLUE, user=self.user, fallback=False))
        self.green = self._resources.enter_context(
            client(self.dsn, self.s.green_version, user=self.user, fallback=False)
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._resources.close()  # the clients first, then the role they logged in as

    @property
    def phase(self) -> str:
        return self.phases[-1] if self.phases else "before"

    def _tag(self, side: str) -> int:
        last = max(self.acked, default=0)
        odd = side == "green"
        return last + (1 if (last % 2 == 0) == odd else 2)

    def write(self, side: str) -> int:
        tag = self._tag(side)
        getattr(self.s, side).write(getattr(self, side), tag)
        self.acked.append(tag)
        return tag

    def exchange(self, *, blue: bool = True) -> None:
        """Green and (until contract) blue each write a row, then each reads every acknowledged write."""
        self.write("green")
        sides = ["green"]
        if blue:
            self.write("blue")
            sides.append("blue")
        for side in sides:
            getattr(self.s, side).sees(getattr(self, side), self.acked)
        self.exchanged.add(self.phase)

    def _done(self, phase: str) -> None:
        self.phases.append(phase)

    def _step(self, phase: str) -> None:
        STEPS[phase](self.dsn, self.m)
        self._done(phase)

    def expand(self) -> None:
        self._step("expand")

    def backfill(self) -> None:
        self._step("backfill")

    def verify(self) -> None:
        self._step("verify")

    def cutover(self) -> None:
        self._step("cutover")

    def through(self, last: str) -> None:
        """Run each remaining phase up to `last`, both clients exchanging writes after each."""
        for phase in PHASES_BEFORE_CONTRACT[len(self.phases) : PHASES_BEFORE_CONTRACT.index(last) + 1]:
            self._step(phase)
            self.exchange()

    def _all_phases_exchanged(self) -> None:
        assert set(self.phases) <= self.exchanged, f"no writes in phases {set(self.phases) - self.exchanged}"

    def contract(self) -> None:
        """Contract; then the plain statements' schema, nothing of liveshift's left, every write kept."""
        self._all_phases_exchanged()
        contract(self.dsn, self.m)
        self._done("contract")
        self.exchange(blue=False)  # blue's version is gone
        assert snapshot(self.conn) == plain_alter_snapshot(self.conn, self.s.setup(self.conn), self.s.plain)
        assert no_leftovers(self.conn, BLUE)
        self.s.green.sees(self.conn, self.acked)

    def rollback(self) -> None:
        """Roll back (twice equals once); then the catalog as before, nothing left, every write kept."""
        self._all_phases_exchanged()
        with open_session(self.dsn) as c:
            phases.rollback(c, self.m.name)
            phases.rollback(c, self.m.name)
        assert snapshot(self.conn) == self.before
        self.s.blue.sees(self.conn, self.acked)
        assert no_leftovers(self.conn, self.s.green_version)


def every_phase(dsn: str, conn: psycopg.Connection, scenario: Scenario, app_role: bool = APP_ROLE_BY_DEFAULT) -> Run:
    with Run(dsn, conn, scenario, app_role) as run:
        run.through("cutover")
        run.contract()
    return run


def rollback_from(
    dsn: str, conn: psycopg.Connection, scenario: Scenario, stop_after: str, app_role: bool = APP_ROLE_BY_DEFAULT
) -> Run:
    with Run(dsn, conn, scenario, app_role) as run:
        run.through(stop_after)
        run.rollback()
    return run


def each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: Scenario) -> None:
    load_tables(conn, scenario.tables)
    m = scenario.m
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.prepare(c, m)
        phases.expand(c, m.name)
        once = snapshot(c)
        phases.expand(c, m.name)
        assert snapshot(c) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(c, m.name)
        once = snapshot(c)
        phases.validate_constraints(c, m.name)
        assert snapshot(c) == once
        assert phases.verify(c, m.name).ok
        phases.cutover(c, m.name)
        phases.cutover(c, m.name)
        phases.contract(c, m.name)
        done = snapshot(c)
        phases.contract(c, m.name)
        assert snapshot(c) == done
    assert done == plain_alter_snapshot(conn, scenario.setup(conn), scenario.plain)


def no_leftovers(conn: psycopg.Connection, version: str) -> bool:
    """No dual-write trigger (one calling a function of liveshift's), helper column or `version` schema is left.

    Tables only: an index built on a helper column keeps that column's name as its own attribute
    name after the rename (PostgreSQL never renames index attributes); `\\d` of the index shows it.
    """
    triggers = conn.execute(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc f ON f.oid = t.tgfoid "
        "WHERE n.nspname = 'public' AND NOT t.tgisinternal AND f.pronamespace = 'liveshift'::regnamespace"
    ).fetchone()
    helpers = conn.execute(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attname LIKE '\\_ls\\_%' AND NOT a.attisdropped"
    ).fetchone()
    schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (version,)).fetchone()
    return triggers == (0,) and helpers == (0,) and schemas == (0,)


def columns_of(c: psycopg.Connection, relation: str) -> list[str]:
    cursor = c.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(*relation.split("."))))
    assert cursor.description is not None
    return [d.name for d in cursor.description]


def exists(c: psycopg.Connection, relation: str) -> bool:
    row = c.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()
    return bool(row and row[0])


def count(c: psycopg.Connection, query: str | sql.Composable, *params: object) -> int:
    row = c.execute(query, params or None).fetchone()
    assert row is not None
    return int(row[0])
