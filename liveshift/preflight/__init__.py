"""Every check that refuses a migration before anything is written: the server, the roles, the schema, the
plan against the live catalog, the expressions on the live rows. `liveshift plan` runs `validate`; prepare
runs it before it records the migration, so bad input leaves no trace."""

from __future__ import annotations

import psycopg

from liveshift.catalog import read_catalog, schema_exists
from liveshift.errors import SpecError
from liveshift.expressions.volatility import read_volatile
from liveshift.lifecycle import Status
from liveshift.plan import MigrationPlan, build_plan
from liveshift.preflight import privileges
from liveshift.preflight.dependents import check_owners
from liveshift.preflight.expressions import check_live
from liveshift.preflight.partition_bounds import check_bounds
from liveshift.preflight.partitioned import check_partitioned
from liveshift.preflight.server import check_features, require_supported_server
from liveshift.spec import Migration
from liveshift.store import record as records
from liveshift.versions import compose


def _check_record(conn: psycopg.Connection, migration: Migration, file: str | None) -> str | None:
    """Refuse a name already used; the schema's current version."""
    if not schema_exists(conn, "liveshift"):
        return None
    schema = migration.schema_name
    record = records.find(conn, migration.name)
    if record is not None and record.status != Status.ROLLED_BACK:
        raise SpecError(
            f"a migration named {migration.name!r} already exists (status {record.status})", file=file, field="name"
        )
    return records.current_version(conn, schema)


def validate(conn: psycopg.Connection, migration: Migration, file: str | None = None) -> MigrationPlan:
    """Everything `prepare` checks, without writing anything: what `liveshift plan` runs."""
    require_supported_server(conn, file)
    schema = migration.schema_name
    privileges.check_schemas(conn, file)
    current = _check_record(conn, migration, file)
    if not schema_exists(conn, schema):
        raise SpecError(f"schema {schema!r} does not exist", file=file, field="schema")
    # other migrations in flight on the schema: their tables as they were before their expand, and none shared
    others = compose.others_in_flight(conn, schema, migration.name)
    catalog = compose.current_shape(read_catalog(conn, schema), others)
    plan = build_plan(migration, catalog, current, file=file)
    compose.check_disjoint(plan, others, file)
    volatile = read_volatile(conn, [t.expression for t in plan.transforms])
    if volatile:  # recorded in the snapshot, so every phase plans them alike (expressions/volatility.py)
        plan = build_plan(migration, catalog.model_copy(update={"volatile_functions": volatile}), current, file=file)
    check_partitioned(plan, conn.info.server_version, file)
    check_features(plan, conn.info.server_version, file)
    privileges.check_worker(conn, plan, file)
    check_owners(conn, plan, file)
    if schema_exists(conn, plan.green):
        raise SpecError(
            f"schema {plan.green!r} (the green version of {migration.name!r}) already exists", file=file, field="name"
        )
    check_live(conn, plan, file)
    check_bounds(conn, plan, file)
    return plan
