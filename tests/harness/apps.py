"""Applications writing through a migration of `users`: the add_column migration most workflow tests run
(`ADD_COLUMN`, green version `GREEN`), the table it runs on (`seed`), and a blue and a green application each
writing on its own thread (`Writers`), keeping every acknowledged write and every error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import psycopg

from tests.harness.db import client

ADD_COLUMN = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false, unique: true}
    up: lower(email)
"""
GREEN = "public_users_email_lower"

T = TypeVar("T")


def seed(conn: psycopg.Connection, rows: int = 2000) -> None:
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute(f"INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, {rows}) g")


class App(threading.Thread, Generic[T]):
    """One application version writing through its version schema on its own connection, until halted.

    `write(conn, i)` does one request and returns what it inserted (kept in `written`), or None when its
    version cannot be used yet. Every failure is an application error and lands in `errors`.
    """

    def __init__(self, dsn: str, version: str, write: Callable[[psycopg.Connection, int], T | None]) -> None:
        super().__init__(daemon=True)
        self.dsn, self.version, self.write = dsn, version, write
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.written: list[T] = []

    def run(self) -> None:
        with client(self.dsn, self.version) as conn:
            conn.execute("SET statement_timeout = '10s'")  # a request stuck behind a lock fails loudly
            i = 0
            while not self.stop.is_set():
                i += 1
                try:
                    inserted = self.write(conn, i)
                    if inserted is not None:
                        self.written.append(inserted)
                except psycopg.Error as exc:
                    self.errors.append(f"{self.version}: {type(exc).__name__}: {exc}")
                self.stop.wait(0.02)

    def halt(self) -> None:
        self.stop.set()
        if self.ident is not None:
            self.join(timeout=30)


def view_exists(conn: psycopg.Connection, view: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (view,)).fetchone() == (True,)


def blue_write(conn: psycopg.Connection, i: int) -> str:
    # before expand `public_base` does not exist and the search_path reaches the table itself
    email = f"Blue{i}@Writer.org"
    conn.execute("INSERT INTO users (email) VALUES (%s)", (email,))
    conn.execute("UPDATE users SET email = 'Upd' || id || '@Blue.org' WHERE id = %s", (1 + i * 7 % 1000,))
    return email


def green_write(conn: psycopg.Connection, i: int) -> str | None:
    if not view_exists(conn, f"{GREEN}.users"):
        return None  # green applications start once their version exists
    email = f"Green{i}@Writer.org"
    conn.execute("INSERT INTO users (email, email_lower) VALUES (%s, lower(%s))", (email, email))
    conn.execute(
        "UPDATE users SET email = 'GUpd' || id || '@Green.org', email_lower = 'gupd' || id || '@green.org' "
        "WHERE id = %s",
        (1001 + i * 7 % 1000,),
    )
    return email


class Writers:
    """A blue and a green application writing throughout a migration; every acknowledged insert is kept.

    Each version's applications leave when it is retired, as they do in a real rollout: blue's before
    contract drops its views (they moved to green at cutover), green's before rollback drops its views.
    Blue starts before expand and writes through rollback; green writes from expand through contract.
    """

    def __init__(self, dsn: str) -> None:
        self.blue: App[str] = App(dsn, "public_base", blue_write)
        self.green: App[str] = App(dsn, GREEN, green_write)

    def __enter__(self) -> Writers:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt()

    def start(self) -> None:
        self.blue.start()
        self.green.start()

    def halt(self) -> None:
        self.blue.halt()
        self.green.halt()

    @property
    def errors(self) -> list[str]:
        return self.blue.errors + self.green.errors

    @property
    def written(self) -> list[str]:
        return self.blue.written + self.green.written
