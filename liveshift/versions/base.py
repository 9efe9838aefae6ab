"""`liveshift init`: a schema's base version registered before its first migration, so that applications can use
liveshift.client (and `liveshift.use_version`) from day one.

The base version is what a first migration's expand would create: a schema of views over the tables as they are
(`public_base`), their grants in line with the tables', and the schema's row in liveshift.active_versions. A
migration then finds a current version and keeps it: its rollback no longer drops `public_base` or forgets the
schema, so the application never loses its version. Idempotent; refused while a migration of the schema is in
flight (its expand creates, and its rollback drops, the base version itself).
"""

from __future__ import annotations

import psycopg

from liveshift.catalog import read_catalog, schema_exists
from liveshift.ddl.statements import create_version_steps, register_version
from liveshift.errors import MigrationStateError, SpecError
from liveshift.plan import build_plan
from liveshift.spec import Migration
from liveshift.store import record as records
from liveshift.store.schema import bootstrap
from liveshift.versions import grants
from liveshift.versions.schemas import BASE_VERSION

_INIT_LOCK = 0x6C73696E  # 'lsin': one init per database at a time


def init_schema(conn: psycopg.Connection, schema: str) -> tuple[str, bool]:
    """Register `schema`'s base version; returns (the schema's current version, whether it was created now)."""
    bootstrap(conn)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INIT_LOCK,))
        current = records.current_version(conn, schema)
        if current is not None:
            return current, False
        if not schema_exists(conn, schema):
            raise SpecError(f"schema {schema!r} does not exist", field="schema")
        flying = records.in_flight(conn, schema)
        if flying:
            raise MigrationStateError(
                f"cannot init schema {schema!r}: migration {flying[0]!r} is in flight (its expand registers the "
                "base version); let it finish or roll it back"
            )
        # the plan of a migration that changes nothing: its blue version is the base version, its grants the base's
        nothing = Migration.model_construct(name=f"{BASE_VERSION}_init", schema_name=schema, operations=[])
        plan = build_plan(nothing, read_catalog(conn, schema), None)
        for step in [*create_version_steps(plan.blue, schema, plan.physical), register_version(schema, plan.blue)]:
            conn.execute(step.statement)
        for statement in grants.planned_statements(conn, plan):
            conn.execute(statement)
    return plan.blue, True
