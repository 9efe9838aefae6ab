"""Where a rehearsal runs: a scratch database, had one of two ways and always given back.

- A scratch target (`--scratch-dsn`, or `[scratch] <target> = "dsn"` in the worker's configuration): an empty
  database the rehearsal may fill, connected to as a role of its own (not the bootstrap superuser). Afterwards
  `DROP OWNED BY CURRENT_USER` removes everything the rehearsal made (restored objects are owned by that role).
- Otherwise the target's own role creates `ls_rehearsal_<epoch>_<random>` on the target's server (it needs
  CREATEDB) and drops it afterwards `WITH (FORCE)`. A scratch database a killed process left behind (its name
  carries its creation time) is dropped by the next rehearsal once it is a day old and nobody is connected to it.

Without either the rehearsal is refused, saying which is missing. The database is given back in a `finally`: on
success, on failure, and on KeyboardInterrupt or SystemExit (the CLI turns SIGTERM into the latter).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from liveshift.errors import SpecError

PREFIX = "ls_rehearsal_"
STALE_AFTER_S = 24 * 3600

_USER_OBJECTS = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_namespace
        WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
"""


@dataclass(frozen=True)
class Scratch:
    dsn: str
    description: str  # for the report


def _role(conn: psycopg.Connection) -> tuple[str, bool, bool]:
    """The session's role, whether it may create databases, and whether it is the bootstrap superuser."""
    row = conn.execute(
        "SELECT rolname, rolcreatedb OR rolsuper, oid = 10 FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row is not None
    return str(row[0]), bool(row[1]), bool(row[2])


def _redacted(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    return f"database {params.get('dbname', '?')!r} on {params.get('host', 'localhost')}:{params.get('port', 5432)}"


@contextmanager
def scratch_database(target_dsn: str, scratch_dsn: str | None = None) -> Iterator[Scratch]:
    """A scratch database for one rehearsal (see the module's docstring), given back however the block ends."""
    if scratch_dsn:
        with _scratch_target(scratch_dsn) as scratch:
            yield scratch
        return
    with psycopg.connect(target_dsn, autocommit=True) as conn:
        role, may_create, _ = _role(conn)
        if not may_create:
            raise SpecError(
                "cannot rehearse: no scratch target is configured (--scratch-dsn, or [scratch] in the worker's "
                f"configuration) and role {role!r} may not create databases (it needs CREATEDB)",
                field="rehearse",
            )
        _drop_stale(conn, role)
        name = f"{PREFIX}{int(time.time())}_{uuid.uuid4().hex[:8]}"
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield Scratch(make_conninfo(target_dsn, dbname=name), f"scratch database {name} (dropped afterwards)")
        finally:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _drop_stale(conn: psycopg.Connection, role: str) -> None:
    """Scratch databases of this role a killed rehearsal left, a day old and unused."""
    rows = conn.execute(
        "SELECT datname FROM pg_database d WHERE datname LIKE %s AND pg_get_userbyid(datdba) = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)",
        (PREFIX.replace("_", "\\_") + "%", role),
    ).fetchall()
    for (name,) in rows:
        created = re.match(rf"{PREFIX}(\d+)_", name)
        if created and time.time() - int(created.group(1)) > STALE_AFTER_S:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextmanager
def _scratch_target(dsn: str) -> Iterator[Scratch]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        role, _, bootstrap = _role(conn)
        where = _redacted(dsn)
        if bootstrap:
            raise SpecError(
                f"cannot rehearse on the scratch target ({where}): connect as a role of its own, not the bootstrap "
                f"superuser {role!r} (what the rehearsal made is removed with DROP OWNED BY its role)",
                field="rehearse",
            )
        row = conn.execute(_USER_OBJECTS).fetchone()
        if row and row[0]:
            raise SpecError(
                f"cannot rehearse on the scratch target ({where}): it is not empty ({row[0]} objects); give the "
                "rehearsal an empty database of its own",
                field="rehearse",
            )
        try:
            yield Scratch(dsn, f"the scratch target, {where} (emptied afterwards)")
        finally:
            conn.execute("DROP OWNED BY CURRENT_USER CASCADE")
