"""The database side of a test: application clients, migrations, catalog snapshots, the phases run directly
(no workflow) and the backfill's progress as its checkpoints count it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import yaml
from psycopg import sql

from liveshift import phases
from liveshift.backfill.partitions import plan_partitions
from liveshift.backfill.walk import NO_PARTITION_HOOKS, NoPartitionHooks, PartitionHooks, Throttle, run_partition
from liveshift.catalog import Index, read_catalog
from liveshift.connections import open_session
from liveshift.ddl.executor import NoLockHooks
from liveshift.ddl.steps import Step
from liveshift.spec import Migration, parse_migration
from liveshift.store.checkpoints import init_checkpoints, load_partitions
from liveshift.store.record import load_record
from liveshift.values import LockWait, Progress


def client(dsn: str, version: str | None, user: str | None = None, fallback: bool = True) -> psycopg.Connection:
    """An application connection: its search_path picks the version (None: the physical schema).

    With `fallback`, public follows the version in the search_path; without, a relation the version
    lacks (or a version schema the user may not use) is an error instead of the physical table.
    """
    path = version if version and not fallback else f"{version},public" if version else "public"
    options = f"-c search_path={path}"
    extra = {"user": user} if user else {}
    return psycopg.connect(dsn, autocommit=True, options=options, **extra)


def as_role(dsn: str, role: str, search_path: str) -> psycopg.Connection:
    """An application connection as `role`; the search_path names the version only, never the table's schema."""
    return client(dsn, search_path, user=role, fallback=False)


def migration(text: str) -> Migration:
    return parse_migration(yaml.safe_load(text), file="test.yaml")


def snapshot(conn: psycopg.Connection, schema: str = "public") -> dict[str, Any]:
    """The physical catalog, order-insensitive where PostgreSQL's order is incidental."""
    catalog = read_catalog(conn, schema)
    out: dict[str, Any] = {}
    for name, table in catalog.tables.items():
        out[name] = {
            "columns": sorted((c.name, c.type, c.nullable, c.default, c.identity) for c in table.columns),
            "primary_key": table.primary_key,
            "indexes": sorted(_index_row(i, schema) for i in table.indexes),
            "constraints": sorted((c.name, c.kind, c.definition, c.validated) for c in table.constraints),
        }
        out[name].update(_comments_and_identity(conn, schema, name))
        if table.partitioning is not None:  # how it is split, and into which partitions (not their indexes' names)
            parts = table.partitioning.partitions
            out[name]["partitions"] = [table.partitioning.strategy, sorted((p.name, p.parent, p.bound) for p in parts)]
    if catalog.enums:  # present only where the schema has some, so that snapshots without them compare as before
        out["enum types"] = catalog.enums
    return json.loads(json.dumps(out))


_COMMENTS = """
SELECT 'table', '', d.description FROM pg_description d
WHERE d.objoid = %(t)s::regclass AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
UNION ALL
SELECT 'column', a.attname, d.description FROM pg_description d
JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
WHERE d.objoid = %(t)s::regclass AND d.classoid = 'pg_class'::regclass AND d.objsubid > 0
UNION ALL
SELECT 'constraint', c.conname, d.description FROM pg_description d
JOIN pg_constraint c ON c.oid = d.objoid AND d.classoid = 'pg_constraint'::regclass
WHERE c.conrelid = %(t)s::regclass
"""


def _comments_and_identity(conn: psycopg.Connection, schema: str, table: str) -> dict[str, Any]:
    """A table's comments (its own, its columns', its constraints') and its replica identity when not the
    default: present only where set, so that tables without them compare as before."""
    qualified = sql.Identifier(schema, table).as_string(conn)
    out: dict[str, Any] = {}
    comments = sorted(conn.execute(_COMMENTS, {"t": qualified}).fetchall())
    if comments:
        out["comments"] = comments
    identity = conn.execute(
        "SELECT c.relreplident, (SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = c.oid AND x.indisreplident) FROM pg_class c WHERE c.oid = %s::regclass",
        (qualified,),
    ).fetchone()
    if identity is not None and identity[0] != "d":
        out["replica_identity"] = list(identity)
    return out


def _unqualified(definition: str, schema: str) -> str:
    """pg_get_indexdef's text without the schema of its table (with every option: method, operator classes,
    ordering, INCLUDE, storage parameters, predicate), so that a scratch schema's index compares equal."""
    for on in (" ON ", " ON ONLY "):  # ONLY: a partitioned table's index
        for prefix in (f"{on}{schema}.", f"{on}{sql.Identifier(schema).as_string(None)}."):
            definition = definition.replace(prefix, on, 1)
    return definition


def _index_row(i: Index, schema: str) -> tuple[Any, ...]:
    definition = _unqualified(i.definition, schema)
    return (i.name, tuple(i.columns), i.unique, i.primary, i.valid, i.predicate, i.tablespace, definition)


REFERENCE = "ls_reference"


@contextmanager
def reference_schema(conn: psycopg.Connection) -> Iterator[str]:
    """A scratch schema first on `conn`'s search_path, for what the plain statements would leave; dropped after."""
    conn.execute("DROP SCHEMA IF EXISTS ls_reference CASCADE; CREATE SCHEMA ls_reference")
    conn.execute("SET search_path = ls_reference")
    try:
        yield REFERENCE
    finally:
        conn.execute("RESET search_path")
        conn.execute("DROP SCHEMA ls_reference CASCADE")


def plain_alter_snapshot(conn: psycopg.Connection, setup: str, alter: str) -> dict[str, Any]:
    """What the plain statements produce: run them in a scratch schema and snapshot it as if it were public."""
    with reference_schema(conn) as schema:
        conn.execute(setup)
        conn.execute(alter)
        shape = snapshot(conn, schema)
    return json.loads(json.dumps(shape).replace(f"{schema}.", ""))


@dataclass
class LockEvents(NoLockHooks):
    """Lock hooks that keep what they hear: each wait's report, each retry's attempt."""

    waits: list[LockWait] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)

    def on_wait(self, wait: LockWait) -> None:
        self.waits.append(wait)

    def on_retry(self, step: Step, attempt: int) -> None:
        self.retries.append(attempt)


@dataclass
class _Hooks(NoPartitionHooks):
    progress: Callable[[Progress], None] | None
    stop: Callable[[], bool] | None

    def on_progress(self, progress: Progress) -> None:
        if self.progress is not None:
            self.progress(progress)

    def should_stop(self) -> bool:
        return self.stop is not None and self.stop()


def partition_hooks(
    on_progress: Callable[[Progress], None] | None = None, should_stop: Callable[[], bool] | None = None
) -> PartitionHooks:
    """A partition's hooks from plain functions; those not given do nothing (as no hooks at all)."""
    return _Hooks(on_progress, should_stop)


def backfill_all(
    dsn: str,
    name: str,
    parallelism: int = 1,
    throttle: Throttle | None = None,
    hooks: PartitionHooks = NO_PARTITION_HOOKS,
) -> None:
    """Every partition of every target, one after the other in one session (`hooks` hear each partition's walk)."""
    with open_session(dsn) as conn:
        plan = phases.plan_of(load_record(conn, name))
        for target in plan.backfill_targets():
            partitions = load_partitions(conn, name, target.table)
            if not partitions:  # as the plan_backfill activity: planned once, a second run resumes
                partitions = plan_partitions(conn, plan.schema, target, parallelism)
                init_checkpoints(conn, name, target.table, partitions)
            for p in partitions:
                run_partition(
                    conn,
                    migration=name,
                    schema=plan.schema,
                    target=target,
                    partition=p.index,
                    throttle=throttle,
                    hooks=hooks,
                )


def through_verify(dsn: str, m: Migration) -> phases.VerifyReport:
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
    backfill_all(dsn, m.name)
    with open_session(dsn) as conn:
        phases.validate_constraints(conn, m.name)
        return phases.verify(conn, m.name)


def complete(dsn: str, m: Migration) -> None:
    report = through_verify(dsn, m)
    assert report.ok, report.summary()
    with open_session(dsn) as conn:
        phases.cutover(conn, m.name)
        phases.contract(conn, m.name)


def rows_done(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
        if c.execute("SELECT to_regclass('liveshift.checkpoints')").fetchone() == (None,):
            return 0  # not prepared yet
        return int(c.execute("SELECT coalesce(sum(rows_done), 0) FROM liveshift.checkpoints").fetchone()[0])  # type: ignore[index]


async def until_rows_done(dsn: str, at_least: int, timeout: float = 90) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while (done := await asyncio.to_thread(rows_done, dsn)) < at_least:
        assert asyncio.get_running_loop().time() < deadline, f"backfill stuck at {done} rows"
        await asyncio.sleep(0.1)
    return done
