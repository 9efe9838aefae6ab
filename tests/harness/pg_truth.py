"""What PostgreSQL really does for one statement: the locks it holds (pg_locks), the relations it rewrites
(relfilenode) and scans (pg_stat_xact_user_tables), measured inside a transaction that is rolled back.

Each measurement runs in a schema of its own: `setup` creates what the statement works on (committed), the
statement runs in a transaction, and the schema is dropped after. Only relations that existed before the
statement count: a table the statement creates is nobody's traffic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from liveshift.sqlconvert.lint import StatementReport

MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
ORDER = list(MODES.values())
# relations application traffic reads or writes: tables, partitioned tables, views, matviews, sequences
TRAFFIC_KINDS = {"r", "p", "v", "m", "S", "f"}

_RELATIONS = """
SELECT c.oid, c.relname, c.relkind, c.relfilenode FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
"""
_LOCKS = """
SELECT l.relation, l.mode FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
_SCANS = "SELECT relid, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = current_schema()"


@dataclass
class Truth:
    locks: dict[str, str] = field(default_factory=dict)  # relation (application kinds) -> strongest mode
    index_locks: dict[str, str] = field(default_factory=dict)
    rewritten: set[str] = field(default_factory=set)
    scanned: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)  # relation -> relkind

    @property
    def lock(self) -> str:
        return max(self.locks.values(), key=ORDER.index) if self.locks else "none"

    @property
    def blocking_lock(self) -> bool:
        """Whether a lock conflicts with application writes (or, on a view or matview, its reads)."""
        return any(blocks_traffic(self.kinds.get(name, "r"), mode) for name, mode in self.locks.items())

    @property
    def dangerous(self) -> bool:
        """A rewrite, or a scan while holding a lock that blocks application traffic."""
        return bool(self.rewritten) or (bool(self.scanned) and self.blocking_lock)


def blocks_traffic(kind: str, mode: str) -> bool:
    """Whether `mode` on a relation of `kind` blocks its traffic: writes on a table (SHARE or stronger), reads on
    a view or materialized view, which take no writes (only ACCESS EXCLUSIVE: REFRESH … CONCURRENTLY's
    EXCLUSIVE lets them be read)."""
    return ORDER.index(mode) >= ORDER.index("ACCESS EXCLUSIVE" if kind in "vm" else "SHARE")


def _strongest(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, mode in pairs:
        if name not in out or ORDER.index(mode) > ORDER.index(out[name]):
            out[name] = mode
    return out


@contextmanager
def case_schema(conn: psycopg.Connection, setup: str, name: str | None = None) -> Iterator[str]:
    """A fresh schema of `conn` (autocommit) on the search path, with `setup` run (committed) in it. `name`: the
    schema's own name instead of a random one (`public`, for files that name their tables `public.orders`): made
    anew, and left empty after, as a fresh database has it."""
    schema = name or f"truth_{uuid.uuid4().hex[:10]}"
    if name:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(schema)))
        if setup.strip():
            conn.execute(setup)
        yield schema
    finally:
        conn.execute("RESET search_path")
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        if name:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def measure(conn: psycopg.Connection, setup: str, statement: str) -> Truth:
    """Run `setup` (committed) and `statement` (rolled back) in a fresh schema of `conn`."""
    with case_schema(conn, setup):
        return measure_statement(conn, statement)


def measure_statement(conn: psycopg.Connection, statement: str) -> Truth:
    before = {oid: (name, kind, node) for oid, name, kind, node in conn.execute(_RELATIONS).fetchall()}
    with conn.transaction(force_rollback=True):
        scans_before = dict(conn.execute(_SCANS).fetchall())
        conn.execute(statement)
        held = conn.execute(_LOCKS).fetchall()
        after = {oid: node for oid, _, _, node in conn.execute(_RELATIONS).fetchall()}
        scans_after = dict(conn.execute(_SCANS).fetchall())
    truth = Truth()
    pairs = [(before[oid][0], MODES[mode], before[oid][1]) for oid, mode in held if oid in before]
    truth.locks = _strongest([(name, mode) for name, mode, kind in pairs if kind in TRAFFIC_KINDS])
    truth.kinds = {name: kind for name, _, kind in pairs}
    truth.index_locks = _strongest([(name, mode) for name, mode, kind in pairs if kind == "i"])
    truth.rewritten = {
        name for oid, (name, kind, node) in before.items() if kind in "rm" and after.get(oid, node) != node and node
    }
    truth.scanned = {before[oid][0] for oid, n in scans_after.items() if oid in before and n > scans_before.get(oid, 0)}
    return truth


# lint's findings about breaking old clients rather than locks (renames, drops): PostgreSQL's locks cannot
# confirm or refute them, so the comparison with the server leaves them out, with the blanket lock_timeout one
NOT_MEASURED = {
    "require-lock-timeout",
    "renaming-column",
    "renaming-table",
    "ban-drop-column",
    "ban-drop-table",
    "ban-drop-default",
    "ban-drop-constraint",
    "ban-drop-database",
    "ban-truncate-cascade",
    "adding-required-field",
}


def lint_dangerous(report: StatementReport) -> bool:
    """lint's verdict on the statement's locks: a finding other than those PostgreSQL cannot measure."""
    return any(f.code not in NOT_MEASURED for f in report.findings)
