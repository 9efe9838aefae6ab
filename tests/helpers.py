"""Shared test helpers: blue/green application clients, catalog snapshots, whole-phase drivers."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import yaml

from liveshift import engine
from liveshift.backfill import Throttle, init_checkpoints, plan_partitions, run_partition
from liveshift.catalog import read_catalog
from liveshift.spec import Migration, parse_migration


def client(dsn: str, version: str | None, user: str | None = None, fallback: bool = True) -> psycopg.Connection:
    """An application connection: its search_path picks the version (None: the physical schema).

    With `fallback`, public follows the version in the search_path; without, a relation the version
    lacks (or a version schema the user may not use) is an error instead of the physical table.
    """
    path = version if version and not fallback else f"{version},public" if version else "public"
    options = f"-c search_path={path}"
    extra = {"user": user} if user else {}
    return psycopg.connect(dsn, autocommit=True, options=options, **extra)


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
            "indexes": sorted(
                (i.name, tuple(i.columns), i.unique, i.primary, i.valid, i.predicate) for i in table.indexes
            ),
            "constraints": sorted((c.name, c.kind, c.definition, c.validated) for c in table.constraints),
        }
    return json.loads(json.dumps(out))


def plain_alter_snapshot(conn: psycopg.Connection, setup: str, alter: str) -> dict[str, Any]:
    """What the plain statements produce: run them in a scratch schema and snapshot it as if it were public."""
    conn.execute("DROP SCHEMA IF EXISTS ls_reference CASCADE; CREATE SCHEMA ls_reference")
    conn.execute("SET search_path = ls_reference")
    try:
        conn.execute(setup)
        conn.execute(alter)
        shape = snapshot(conn, "ls_reference")
    finally:
        conn.execute("RESET search_path")
        conn.execute("DROP SCHEMA ls_reference CASCADE")
    return json.loads(json.dumps(shape).replace("ls_reference.", ""))


def backfill_all(dsn: str, name: str, parallelism: int = 1, throttle: Throttle | None = None) -> None:
    with engine.connect(dsn) as conn:
        plan = engine.plan_of(engine.load_record(conn, name))
        for target in plan.backfill_targets():
            init_checkpoints(conn, name, target, plan_partitions(conn, plan.schema, target, parallelism))
            for p in range(parallelism if len(target.key) == 1 else 1):
                run_partition(conn, name, plan.schema, target, p, throttle)


def through_verify(dsn: str, m: Migration) -> engine.VerifyReport:
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
    backfill_all(dsn, m.name)
    with engine.connect(dsn) as conn:
        engine.validate_constraints(conn, m.name)
        return engine.verify(conn, m.name)


def complete(dsn: str, m: Migration) -> None:
    report = through_verify(dsn, m)
    assert report.ok, report.summary()
    with engine.connect(dsn) as conn:
        engine.cutover(conn, m.name)
        engine.contract(conn, m.name)
