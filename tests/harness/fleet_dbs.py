"""Many member databases on two servers for fleet tests: the session's server and a PostgreSQL 15 of the
module's own (Debian's binaries, as tests/harness/postgres.py starts servers), each database seeded with `users`."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.cli.stack.postgres import EmbeddedPostgres
from liveshift.fleet.members import Member
from tests.harness.apps import seed

PG15_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def pg15_server() -> Iterator[str]:
    """A PostgreSQL 15 server of its own (.ci/system-deps installs postgresql-15): its superuser's DSN."""
    if not (PG15_BIN / "postgres").exists():
        pytest.fail(f"PostgreSQL 15 is not at {PG15_BIN}: .ci/system-deps installs postgresql-15")
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="liveshift-test-pg15-")), durable=False, bin_dir=PG15_BIN)
    server.start()
    try:
        yield server.dsn()
    finally:
        server.destroy()


@dataclass
class FleetDatabases:
    targets: dict[str, str]  # target name -> its server's superuser DSN (database postgres)
    members: list[Member]  # one per database: key `<target>/<database>`

    def dsn(self, member: Member) -> str:
        return psycopg.conninfo.make_conninfo(self.targets[member.target], dbname=member.database)


@contextmanager
def fleet_databases(
    targets: dict[str, str], per_target: int, rows: int = 200, disposable: frozenset[str] = frozenset()
) -> Iterator[FleetDatabases]:
    """`per_target` fresh databases on each target's server, each with a seeded `users`, made four at a time;
    dropped after, except on the `disposable` targets' servers (destroyed whole)."""
    prefix = f"fl_{uuid.uuid4().hex[:6]}"
    members = [  # the servers alternate, so each wave spans both
        Member(key=f"{target}/{prefix}_{i:02d}", target=target, database=f"{prefix}_{i:02d}")
        for i in range(per_target)
        for target in targets
    ]
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda m: _create(targets[m.target], m.database or "", rows), members))
        yield FleetDatabases(targets, members)
    finally:
        for m in members:
            if m.target not in disposable:
                with psycopg.connect(targets[m.target], autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(m.database)))


def _create(admin_dsn: str, name: str, rows: int) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(psycopg.conninfo.make_conninfo(admin_dsn, dbname=name), autocommit=True) as conn:
        seed(conn, rows=rows)
