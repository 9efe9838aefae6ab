"""The phases of one migration against one database: each call is idempotent and retry-safe.

A durable workflow calls these (through thin activities) and may call any of them twice; the
migration's record in `liveshift.migrations` and the guards on every step make that harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from liveshift.catalog import Catalog, read_catalog, schema_exists
from liveshift.ddl import LockPolicy, LockWaitHook, run_steps
from liveshift.errors import MigrationStateError, SpecError
from liveshift.operations.base import ExpressionProbe
from liveshift.plan import MigrationPlan, build_plan
from liveshift.shape import shaped_relation, user_expression
from liveshift.spec import Migration
from liveshift.state import IN_FLIGHT, bootstrap
from liveshift.steps import Step
from liveshift.verify import VerifyReport
from liveshift.verify import verify as verify_rows
from liveshift.versions import promote, set_candidate

log = logging.getLogger(__name__)

LockRetryHook = Callable[[Step, int], None]


class MigrationRecord(BaseModel):
    name: str
    schema_name: str
    spec: dict[str, Any]
    catalog_before: Catalog
    blue_version: str
    green_version: str
    created_blue: bool
    status: str
    paused: bool = False
    error: str | None = None


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, application_name="liveshift", **kwargs)


# validation against the live database


# rows an `up` expression is tried on before expand
SAMPLE_ROWS = 1000


def _probe_sql(schema: str, plan: MigrationPlan, probe: ExpressionProbe, rows: int = 0) -> sql.Composable:
    """Compile (rows = 0) or evaluate over the first `rows` rows; count() makes every value be computed."""
    before = plan.physical.tables.get(probe.table)
    existing = {c.name for c in before.columns} if before else set()
    expr = user_expression(probe.expression)
    if probe.type == "boolean":
        # a condition must be boolean itself: CAST would accept an integer
        expr = sql.SQL("CASE WHEN {} THEN true ELSE false END").format(expr)
    elif probe.type:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(probe.type))
    return sql.SQL(
        "SELECT count(_ls_value) FROM (SELECT {} AS _ls_value FROM {} AS _ls_row LIMIT {}) AS _ls_probe"
    ).format(expr, shaped_relation(schema, probe.table, probe.variables, existing), sql.Literal(rows))


def check_live(conn: psycopg.Connection, plan: MigrationPlan, file: str | None = None) -> None:
    """Compile every type and expression of the plan against the live tables; touches nothing."""
    for index, fld, op, probe in plan.probes():
        where = {"file": file, "index": index, "op": op.op_name, "field": fld}
        if isinstance(probe, tuple):
            _, typ = probe
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute(sql.SQL("SELECT CAST(NULL AS {})").format(sql.SQL(typ)), prepare=True)
            except psycopg.Error as exc:
                raise SpecError(f"unknown type {typ!r}: {_first_line(exc)}", **where) from None
            continue
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET TRANSACTION READ ONLY")
                # prepare=True: the extended protocol refuses a second statement smuggled into an expression
                conn.execute(_probe_sql(plan.schema, plan, probe), prepare=True)
        except psycopg.Error as exc:
            raise SpecError(
                f"expression {probe.expression!r} does not compile against table {probe.table!r}: {_first_line(exc)}",
                **where,
            ) from None
        if not probe.sample:
            continue
        try:
            with conn.transaction(force_rollback=True):
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(_probe_sql(plan.schema, plan, probe, SAMPLE_ROWS), prepare=True)
        except psycopg.Error as exc:
            raise SpecError(
                f"expression {probe.expression!r} fails on existing rows of table {probe.table!r}: {_first_line(exc)}",
                **where,
            ) from None


def _first_line(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).splitlines()[0]


# the migration record


def _load_record(conn: psycopg.Connection, name: str) -> MigrationRecord | None:
    row = conn.execute(
        "SELECT name, schema_name, spec, catalog_before, blue_version, green_version, created_blue, status, "
        "paused, error FROM liveshift.migrations WHERE name = %s",
        (name,),
    ).fetchone()
    if row is None:
        return None
    keys = [
        "name",
        "schema_name",
        "spec",
        "catalog_before",
        "blue_version",
        "green_version",
        "created_blue",
        "status",
        "paused",
        "error",
    ]
    return MigrationRecord.model_validate(dict(zip(keys, row, strict=True)))


def load_record(conn: psycopg.Connection, name: str) -> MigrationRecord:
    if not schema_exists(conn, "liveshift"):
        raise MigrationStateError(f"migration {name!r} is not known to this database")
    record = _load_record(conn, name)
    if record is None:
        raise MigrationStateError(f"migration {name!r} is not known to this database")
    return record


def plan_of(record: MigrationRecord) -> MigrationPlan:
    migration = Migration.model_validate(record.spec)
    return build_plan(migration, record.catalog_before, None if record.created_blue else record.blue_version)


def _set_status(conn: psycopg.Connection, name: str, status: str, error: str | None = None) -> None:
    conn.execute(
        "UPDATE liveshift.migrations SET status = %s, error = %s, updated_at = now() WHERE name = %s",
        (status, error, name),
    )


def current_version(conn: psycopg.Connection, schema: str) -> str | None:
    row = conn.execute(
        "SELECT current_version FROM liveshift.active_versions WHERE schema_name = %s", (schema,)
    ).fetchone()
    return row[0] if row else None


def in_flight(conn: psycopg.Connection, schema: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM liveshift.migrations WHERE schema_name = %s AND status = ANY(%s) ORDER BY created_at",
            (schema, list(IN_FLIGHT)),
        )
    ]


def validate(conn: psycopg.Connection, migration: Migration, file: str | None = None) -> MigrationPlan:
    """Everything `prepare` checks, without writing anything: what `liveshift plan` runs."""
    schema = migration.schema_name
    current = None
    if schema_exists(conn, "liveshift"):
        record = _load_record(conn, migration.name)
        if record is not None and record.status not in ("rolled_back",):
            raise SpecError(
                f"a migration named {migration.name!r} already exists (status {record.status})", file=file, field="name"
            )
        others = [n for n in in_flight(conn, schema) if n != migration.name]
        if others:
            raise SpecError(
                f"migration {others[0]!r} is still in flight on schema {schema!r}; finish or roll it back first",
                file=file,
                field="operations",
            )
        current = current_version(conn, schema)
    if not schema_exists(conn, schema):
        raise SpecError(f"schema {schema!r} does not exist", file=file, field="schema")
    plan = build_plan(migration, read_catalog(conn, schema), current, file=file)
    if schema_exists(conn, plan.green):
        raise SpecError(
            f"schema {plan.green!r} (the green version of {migration.name!r}) already exists", file=file, field="name"
        )
    check_live(conn, plan, file)
    return plan


def prepare(conn: psycopg.Connection, migration: Migration, file: str | None = None) -> MigrationPlan:
    """Validate against the live catalog and record the migration with its catalog snapshot.

    Idempotent: preparing the same migration again returns the recorded plan.
    """
    record = _load_record(conn, migration.name) if schema_exists(conn, "liveshift") else None
    spec = migration.model_dump(mode="json", by_alias=True)
    if record is not None and record.status in IN_FLIGHT and record.spec == spec:
        return plan_of(record)
    plan = validate(conn, migration, file)  # before writing anything: bad input leaves no trace
    bootstrap(conn)
    if record is not None and record.status == "rolled_back":
        conn.execute("DELETE FROM liveshift.migrations WHERE name = %s", (migration.name,))
    try:
        conn.execute(
            "INSERT INTO liveshift.migrations (name, schema_name, spec, catalog_before, blue_version, green_version, "
            "created_blue, status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'prepared')",
            (
                migration.name,
                plan.schema,
                Jsonb(spec),
                Jsonb(plan.physical.model_dump(mode="json")),
                plan.blue,
                plan.green,
                plan.create_blue,
            ),
        )
    except errors.UniqueViolation as exc:
        if exc.diag.constraint_name == "migrations_one_in_flight_per_schema":
            running = ", ".join(repr(n) for n in in_flight(conn, plan.schema)) or "another migration"
            raise SpecError(
                f"migration {running} is still in flight on schema {plan.schema!r}; finish or roll it back first",
                file=file,
                field="operations",
            ) from None
        raise SpecError(f"a migration named {migration.name!r} already exists", file=file, field="name") from None
    return plan


# phases


def _require(record: MigrationRecord, allowed: tuple[str, ...], action: str) -> None:
    if record.status not in allowed:
        raise MigrationStateError(f"cannot {action} migration {record.name!r}: it is {record.status}")


def expand(
    conn: psycopg.Connection,
    name: str,
    policy: LockPolicy | None = None,
    on_lock_retry: LockRetryHook | None = None,
    *,
    on_wait: LockWaitHook | None = None,
) -> None:
    record = load_record(conn, name)
    _require(record, ("prepared", "expanded"), "expand")
    run_steps(conn, plan_of(record).phases()["expand"], policy, on_lock_retry, on_wait)
    _set_status(conn, name, "expanded")


def validate_constraints(
    conn: psycopg.Connection,
    name: str,
    policy: LockPolicy | None = None,
    on_lock_retry: LockRetryHook | None = None,
    *,
    on_wait: LockWaitHook | None = None,
) -> None:
    """After backfill: VALIDATE the constraints expand added NOT VALID (reads and writes continue)."""
    record = load_record(conn, name)
    _require(record, ("expanded", "backfilled", "verified"), "validate constraints of")
    run_steps(conn, plan_of(record).validate_steps(), policy, on_lock_retry, on_wait)
    if record.status == "expanded":
        _set_status(conn, name, "backfilled")


def mark(conn: psycopg.Connection, name: str, status: str) -> None:
    load_record(conn, name)
    _set_status(conn, name, status)


def set_paused(conn: psycopg.Connection, name: str, paused: bool) -> None:
    conn.execute("UPDATE liveshift.migrations SET paused = %s, updated_at = now() WHERE name = %s", (paused, name))


def cutover(conn: psycopg.Connection, name: str, percent: int = 100) -> None:
    """Point applications at green (all of them, or a canary percentage). Reversible until contract."""
    record = load_record(conn, name)
    _require(record, ("verified", "cut_over"), "cut over")
    conn.execute(set_candidate(record.schema_name, record.green_version, percent))
    _set_status(conn, name, "cut_over" if percent > 0 else "verified")


def revert_cutover(conn: psycopg.Connection, name: str) -> None:
    record = load_record(conn, name)
    _require(record, ("verified", "cut_over"), "revert the cutover of")
    conn.execute(set_candidate(record.schema_name, None, 0))
    _set_status(conn, name, "verified")


def contract(
    conn: psycopg.Connection,
    name: str,
    policy: LockPolicy | None = None,
    on_lock_retry: LockRetryHook | None = None,
    *,
    on_wait: LockWaitHook | None = None,
) -> None:
    """Remove the old shape. Irreversible: only after cutover."""
    record = load_record(conn, name)
    if record.status == "complete":
        return
    _require(record, ("cut_over", "contracting"), "contract")
    _set_status(conn, name, "contracting")
    plan = plan_of(record)
    run_steps(conn, plan.phases()["contract"], policy, on_lock_retry, on_wait)
    conn.execute(promote(record.schema_name, record.green_version))
    conn.execute("DELETE FROM liveshift.checkpoints WHERE migration = %s", (name,))
    _set_status(conn, name, "complete")


def rollback(
    conn: psycopg.Connection,
    name: str,
    policy: LockPolicy | None = None,
    on_lock_retry: LockRetryHook | None = None,
    reason: str | None = None,
    *,
    on_wait: LockWaitHook | None = None,
) -> None:
    """Undo everything expand did, keeping every row written meanwhile through either version."""
    record = load_record(conn, name)
    if record.status == "rolled_back":
        return
    _require(record, (*IN_FLIGHT,), "roll back")
    if record.status == "contracting":
        raise MigrationStateError(f"cannot roll back migration {name!r}: contract has begun")
    _set_status(conn, name, "rolling_back", reason)
    plan = plan_of(record)
    if schema_exists(conn, "liveshift"):
        conn.execute(set_candidate(record.schema_name, None, 0))
    run_steps(conn, plan.phases()["rollback"], policy, on_lock_retry, on_wait)
    conn.execute("DELETE FROM liveshift.checkpoints WHERE migration = %s", (name,))
    _set_status(conn, name, "rolled_back", reason)


def verify(conn: psycopg.Connection, name: str, chunk: int = 50_000) -> VerifyReport:
    """Compare the representations; marks the migration verified when they agree."""
    record = load_record(conn, name)
    _require(record, ("expanded", "backfilled", "verified", "cut_over"), "verify")
    report = verify_rows(conn, plan_of(record), chunk)
    if report.ok and record.status in ("expanded", "backfilled"):
        _set_status(conn, name, "verified")
    return report
