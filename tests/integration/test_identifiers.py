"""Identifiers with quotes, spaces, capitals and SQL keywords work through every phase, and no name in
a migration file can inject SQL: every identifier goes through psycopg.sql.Identifier."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from liveshift import phases
from liveshift.connections import open_session
from liveshift.spec import parse_migration
from tests.harness.db import backfill_all, snapshot

pytestmark = pytest.mark.integration

HOSTILE = 'x"; DROP TABLE users; --'
SETUP = f"""
CREATE TABLE "Order" ("Id" bigint PRIMARY KEY, "Total Cents" int NOT NULL, "select" text);
CREATE TABLE "select" ("from" text PRIMARY KEY, "a ""b"" c" text);
CREATE TABLE "a ""b"" c" ("user" int, "x""y" int, PRIMARY KEY ("user", "x""y"));
CREATE TABLE "user" ("Group" int PRIMARY KEY, "order" text NOT NULL);
CREATE TABLE {sql.Identifier(HOSTILE).as_string(None)} (id int PRIMARY KEY, v text);
CREATE TABLE users (id int PRIMARY KEY);
INSERT INTO "Order" SELECT g, g * 250, 's' || g FROM generate_series(1, 300) g;
INSERT INTO "select" SELECT 'k' || g, 'Mixed ' || g FROM generate_series(1, 300) g;
INSERT INTO "a ""b"" c" SELECT g % 10, g FROM generate_series(1, 300) g;
INSERT INTO "user" SELECT g, 'o' || g FROM generate_series(1, 300) g;
INSERT INTO {sql.Identifier(HOSTILE).as_string(None)} SELECT g, 'v' || g FROM generate_series(1, 300) g;
INSERT INTO users VALUES (1);
"""
HOSTILE_COLUMN = '"); DROP TABLE users; --'


def weird_migration(schema: str = "public") -> dict[str, Any]:
    return {
        "name": "weird_names",
        "schema": schema,
        "operations": [
            {
                "op": "add_column",
                "table": "Order",
                "column": {"name": "Total EUR", "type": "numeric", "nullable": False},
                "up": '"Total Cents" / 100.0',
            },
            {
                "op": "add_column",
                "table": "select",
                "column": {"name": "where", "type": "text"},
                "up": 'upper("a ""b"" c")',
            },
            {
                "op": "add_column",
                "table": 'a "b" c',
                "column": {"name": 'd "e" f', "type": "int", "nullable": False},
                "up": '"user" + "x""y"',
            },
            {
                "op": "add_column",
                "table": "user",
                "column": {"name": "Order", "type": "text", "unique": True},
                "up": '"order" || "Group"',
            },
            {
                "op": "add_column",
                "table": HOSTILE,
                "column": {"name": HOSTILE_COLUMN, "type": "text"},
                "up": "v || '!'",
            },
        ],
    }


def app(dsn: str, version: str, schema: str = "public") -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(sql.SQL("SET search_path = {}, {}").format(sql.Identifier(version), sql.Identifier(schema)))
    return conn


def columns(conn: psycopg.Connection, table: str) -> list[str]:
    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(table)))
    return [d.name for d in cur.description or []]


def one(conn: psycopg.Connection, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0] if len(row) == 1 else row


def exercise(blue: psycopg.Connection, green: psycopg.Connection, n: int) -> None:
    """Blue and green write every table; each side's writes show, transformed, on the other."""
    blue.execute('INSERT INTO "Order" ("Id", "Total Cents") VALUES (%s, 1234)', (1000 + n,))
    assert one(green, 'SELECT "Total EUR" FROM "Order" WHERE "Id" = %s', 1000 + n) == Decimal("12.34")
    green.execute('INSERT INTO "Order" ("Id", "Total Cents", "Total EUR") VALUES (%s, 500, 5)', (2000 + n,))
    assert one(blue, 'SELECT "Total Cents" FROM "Order" WHERE "Id" = %s', 2000 + n) == 500
    blue.execute('UPDATE "select" SET "a ""b"" c" = %s WHERE "from" = %s', (f"blue {n}", "k1"))
    assert one(green, 'SELECT "where" FROM "select" WHERE "from" = %s', "k1") == f"BLUE {n}"
    blue.execute('INSERT INTO "a ""b"" c" ("user", "x""y") VALUES (%s, 7)', (100 + n,))
    assert one(green, 'SELECT "d ""e"" f" FROM "a ""b"" c" WHERE "user" = %s', 100 + n) == 107 + n
    blue.execute('INSERT INTO "user" ("Group", "order") VALUES (%s, %s)', (5000 + n, "blue"))
    assert one(green, 'SELECT "Order" FROM "user" WHERE "Group" = %s', 5000 + n) == f"blue{5000 + n}"
    hostile = sql.Identifier(HOSTILE)
    blue.execute(sql.SQL("INSERT INTO {} (id, v) VALUES (%s, 'b')").format(hostile), (1000 + n,))
    assert (
        one(green, sql.SQL("SELECT {} FROM {} WHERE id = %s").format(sql.Identifier(HOSTILE_COLUMN), hostile), 1000 + n)
        == "b!"
    )


def test_every_phase_with_hostile_names(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute(SETUP)
    m = parse_migration(weird_migration(), file="weird.yaml")
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    blue, green = app(dsn, "public_base"), app(dsn, "public_weird_names")
    assert columns(blue, "Order") == ["Id", "Total Cents", "select"]
    assert columns(green, "Order") == ["Id", "Total Cents", "select", "Total EUR"]
    assert columns(green, HOSTILE) == ["id", "v", HOSTILE_COLUMN]
    exercise(blue, green, 1)

    backfill_all(dsn, m.name)
    assert one(green, 'SELECT count(*) FROM "Order" WHERE "Total EUR" IS DISTINCT FROM "Total Cents" / 100.0') == 0
    assert one(green, 'SELECT "where" FROM "select" WHERE "from" = %s', "k7") == "MIXED 7"
    assert one(green, 'SELECT count(*) FROM "a ""b"" c" WHERE "d ""e"" f" IS NULL') == 0
    with open_session(dsn) as c:
        phases.validate_constraints(c, m.name)
        report = phases.verify(c, m.name)
        assert report.ok, report.summary()
        assert sorted(t.table for t in report.tables) == sorted(["Order", "select", 'a "b" c', "user", HOSTILE])
        phases.cutover(c, m.name)
    exercise(blue, green, 2)

    with open_session(dsn) as c:
        phases.contract(c, m.name)
    blue.close()
    green.execute('INSERT INTO "Order" ("Id", "Total Cents", "Total EUR") VALUES (9999, 1, 0.01)')
    assert one(green, 'SELECT count(*) FROM "user" WHERE "Order" IS NULL') == 0
    green.close()
    # the physical tables now have the new columns under their final names
    assert columns(conn, "Order") == ["Id", "Total Cents", "select", "Total EUR"]
    assert columns(conn, 'a "b" c') == ["user", 'x"y', 'd "e" f']
    assert columns(conn, HOSTILE) == ["id", "v", HOSTILE_COLUMN]
    assert one(
        conn,
        """SELECT attnotnull FROM pg_attribute WHERE attrelid = '"a ""b"" c"'::regclass
                        AND attname = 'd "e" f'""",
    )
    assert one(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'user_Order_key' AND contype = 'u'") == 1
    assert one(conn, "SELECT count(*) FROM users") == 1  # nothing injected


def test_rollback_with_hostile_names_in_a_hostile_schema(dsn: str, conn: psycopg.Connection) -> None:
    schema = 'Sales "EU"'
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    conn.execute(SETUP)
    conn.execute("RESET search_path")
    conn.execute("CREATE TABLE public.users (id int PRIMARY KEY)")
    before = snapshot(conn, schema)
    m = parse_migration(weird_migration(schema), file="weird.yaml")
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    blue, green = app(dsn, f"{schema}_base", schema), app(dsn, f"{schema}_weird_names", schema)
    exercise(blue, green, 1)
    backfill_all(dsn, m.name)
    with open_session(dsn) as c:
        phases.validate_constraints(c, m.name)
        assert phases.verify(c, m.name).ok
        phases.rollback(c, m.name)
    blue.close()
    green.close()
    assert snapshot(conn, schema) == before
    versions = one(conn, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s", "Sales%")
    assert versions == 1
    assert one(conn, 'SELECT count(*) FROM "Sales ""EU"""."Order" WHERE "Id" = 2001') == 1  # green's write kept
    assert one(conn, "SELECT count(*) FROM public.users") == 0
    assert one(conn, 'SELECT count(*) FROM "Sales ""EU""".users') == 1
