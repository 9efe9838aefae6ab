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

from liveshift import backfill, connections, lifecycle, privileges, replication
from liveshift.catalog import Catalog, read_catalog, schema_exists
from liveshift.ctid_backfill import refusal as block_backfill_refusal
from liveshift.ddl import LockWaitHook, check_policy, run_steps
from liveshift.dependents_check import check_owners
from liveshift.errors import MigrationStateError, SpecError
from liveshift.lifecycle import IN_FLIGHT, CoreAction, Status
from liveshift.operations.base import ExpressionProbe
from liveshift.pinned import check_transforms
from liveshift.plan import MigrationPlan, build_plan
from liveshift.replication import Hold
from liveshift.server_version import require_supported_server
from liveshift.shape import shaped_relation, user_expression
from liveshift.spec import Migration
from liveshift.state import bootstrap
from liveshift.steps import Step
from liveshift.values import LockPolicy, Prepared, Progress, TablePlan, Throttle, VerifyReport
from liveshift.verify import verify as verify_rows
from liveshift.versions import candidate_share, promote, set_candidate

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
    status: Status
    paused: bool = False
    error: str | None = None


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection:
    """A session of the core: autocommit (each step manages its transactions), bounded against a network gone
    silent at both ends (TCP keepalives and tcp_user_timeout here, idle-in-transaction on the server)."""
    conn = connections.connect(dsn, autocommit=True, application_name="liveshift", **kwargs)
    try:
        connections.guard_session(conn)
    except BaseException:
        conn.close()
        raise
    return conn


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
    _check_keyless_backfills(conn, plan, file)
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
    existing = {name: {c.name for c in t.columns} for name, t in plan.physical.tables.items()}
    transforms = [(ctx.index, op.op_name, t) for op, ctx, p in plan.ops for t in p.transforms]
    check_transforms(conn, plan.schema, existing, transforms, file)


def _check_keyless_backfills(conn: psycopg.Connection, plan: MigrationPlan, file: str | None) -> None:
    """A table without a key is backfilled by ctid block ranges: refused where the server cannot run them."""
    for target in plan.backfill_targets():
        reason = None if target.key else block_backfill_refusal(conn, plan.schema, target.table)
        if reason is not None:
            index, op = plan.filled_by(target.table)
            raise SpecError(reason, file=file, index=index, op=op, field="table")


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


def _set_status(conn: psycopg.Connection, name: str, status: Status, error: str | None = None) -> None:
    conn.execute(
        "UPDATE liveshift.migrations SET status = %s, error = %s, updated_at = now() WHERE name = %s",
        (status.value, error, name),
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
            (schema, [s.value for s in IN_FLIGHT]),
        )
    ]


def validate(conn: psycopg.Connection, migration: Migration, file: str | None = None) -> MigrationPlan:
    """Everything `prepare` checks, without writing anything: what `liveshift plan` runs."""
    require_supported_server(conn, file)
    schema = migration.schema_name
    current = None
    privileges.check_schemas(conn, file)
    if schema_exists(conn, "liveshift"):
        record = _load_record(conn, migration.name)
        if record is not None and record.status != Status.ROLLED_BACK:
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
    privileges.check_worker(conn, plan, file)
    check_owners(conn, plan, file)
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
    privileges.check_schemas(conn, file)  # before reading liveshift's state
    record = _load_record(conn, migration.name) if schema_exists(conn, "liveshift") else None
    spec = migration.model_dump(mode="json", by_alias=True)
    if record is not None and record.status in IN_FLIGHT and record.spec == spec:
        return plan_of(record)
    plan = validate(conn, migration, file)  # before writing anything: bad input leaves no trace
    bootstrap(conn)
    if record is not None and record.status == Status.ROLLED_BACK:
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


def prepare_summary(
    conn: psycopg.Connection, migration: Migration, file: str | None = None, policy: LockPolicy | None = None
) -> Prepared:
    """`prepare`, and what the workflow needs to know of the plan (the plan itself stays on the worker side).
    `policy` is checked first: what a step would refuse (ending blockers without the privilege) is refused here."""
    if policy is not None:
        check_policy(conn, policy)
    plan = prepare(conn, migration, file)
    return Prepared(
        # the tables named plus those the plan found in the catalog (e.g. every table referencing a key)
        tables=sorted(set(migration.tables()) | set(plan.marker_tables())),
        backfill_tables=[t.table for t in plan.backfill_targets()],
        blue_version=plan.blue,
        green_version=plan.green,
    )


# phases


def _require(record: MigrationRecord, action: CoreAction) -> None:
    if not action.allows(record.status):
        raise MigrationStateError(f"cannot {action.verb} migration {record.name!r}: it is {record.status}")


def expand(
    conn: psycopg.Connection,
    name: str,
    policy: LockPolicy | None = None,
    on_lock_retry: LockRetryHook | None = None,
    *,
    on_wait: LockWaitHook | None = None,
) -> None:
    record = load_record(conn, name)
    _require(record, lifecycle.EXPAND)
    plan = plan_of(record)
    run_steps(conn, plan.phases()["expand"], policy, on_lock_retry, on_wait)
    privileges.sync(conn, plan)  # the views exist now: the roles of the tables get them
    _set_status(conn, name, Status.EXPANDED)


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
    _require(record, lifecycle.VALIDATE_CONSTRAINTS)
    run_steps(conn, plan_of(record).validate_steps(), policy, on_lock_retry, on_wait)
    if record.status == Status.EXPANDED:
        _set_status(conn, name, Status.BACKFILLED)


def set_paused(conn: psycopg.Connection, name: str, paused: bool) -> None:
    conn.execute("UPDATE liveshift.migrations SET paused = %s, updated_at = now() WHERE name = %s", (paused, name))


def cutover(conn: psycopg.Connection, name: str, percent: int = 100) -> None:
    """Point applications at green (all of them, or a canary percentage). Reversible until contract."""
    record = load_record(conn, name)
    _require(record, lifecycle.CUTOVER)
    privileges.sync(conn, plan_of(record))  # grants made on the tables meanwhile reach green first
    conn.execute(set_candidate(record.schema_name, record.green_version, percent))
    _set_status(conn, name, Status.CUT_OVER)  # at 0%, too: shift moves clients from there


def shift(conn: psycopg.Connection, name: str, percent: int) -> None:
    """Set green's share of clients (0..100) between cutover and contract; blue stays whole through the dual
    writes, so any share, up or down, is safe. The record's row lock orders it against a concurrent rollback
    or contract, which change the status first."""
    if not 0 <= percent <= 100:
        raise MigrationStateError(f"cannot shift migration {name!r} to {percent}%: the share is 0..100")
    load_record(conn, name)  # a clear error for an unknown migration
    with conn.transaction():
        conn.execute("SELECT 1 FROM liveshift.migrations WHERE name = %s FOR UPDATE", (name,))
        record = load_record(conn, name)
        if record.status != Status.CUT_OVER:
            raise MigrationStateError(f"cannot shift migration {name!r}: it is {record.status}, not cut over")
        conn.execute(set_candidate(record.schema_name, record.green_version, percent))


def green_share(conn: psycopg.Connection, record: MigrationRecord) -> int:
    """Green's share of clients now: 0 before cutover or after a rollback, 100 once promoted."""
    row = conn.execute(candidate_share(record.schema_name)).fetchone()
    if row is None or row[0] != record.green_version:
        return 100 if current_version(conn, record.schema_name) == record.green_version else 0
    return int(row[1])


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
    if record.status == Status.COMPLETE:
        return
    _require(record, lifecycle.CONTRACT)
    plan = plan_of(record)
    with conn.transaction():  # the row lock orders it against a concurrent shift
        conn.execute("SELECT 1 FROM liveshift.migrations WHERE name = %s FOR UPDATE", (name,))
        if record.status == Status.CUT_OVER and (share := green_share(conn, record)) < 100:
            raise MigrationStateError(f"cannot contract migration {name!r}: green has {share}% of clients, not 100%")
        if record.status == Status.CUT_OVER:  # once contract has begun, the columns the sync knows may be renamed
            privileges.sync(conn, plan)  # the hidden columns' grants are the ones contract gives the table's columns
        _set_status(conn, name, Status.CONTRACTING)
    run_steps(conn, plan.phases()["contract"], policy, on_lock_retry, on_wait)
    conn.execute(promote(record.schema_name, record.green_version))
    conn.execute("DELETE FROM liveshift.checkpoints WHERE migration = %s", (name,))
    _set_status(conn, name, Status.COMPLETE)


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
    if record.status == Status.ROLLED_BACK:
        return
    if record.status not in lifecycle.ROLLBACK_STATUSES:
        why = "contract has begun" if record.status == Status.CONTRACTING else f"it is {record.status}"
        raise MigrationStateError(f"cannot roll back migration {name!r}: {why}")
    _set_status(conn, name, Status.ROLLING_BACK, reason)
    plan = plan_of(record)
    if schema_exists(conn, "liveshift"):
        conn.execute(set_candidate(record.schema_name, None, 0))
    run_steps(conn, plan.phases()["rollback"], policy, on_lock_retry, on_wait)
    conn.execute("DELETE FROM liveshift.checkpoints WHERE migration = %s", (name,))
    _set_status(conn, name, Status.ROLLED_BACK, reason)


def verify(conn: psycopg.Connection, name: str, chunk: int = 50_000) -> VerifyReport:
    """Compare the representations; marks the migration verified when they agree."""
    record = load_record(conn, name)
    _require(record, lifecycle.VERIFY)
    plan = plan_of(record)
    report = verify_rows(conn, plan, chunk)
    privileges.sync(conn, plan)
    if report.ok and record.status in (Status.EXPANDED, Status.BACKFILLED):
        _set_status(conn, name, Status.VERIFIED)
    return report


# backfill


def plan_backfill(conn: psycopg.Connection, name: str, parallelism: int) -> list[TablePlan]:
    """Split each table's key range and record the partitions once (a repeated call keeps their progress)."""
    plan = plan_of(load_record(conn, name))
    tables = []
    for target in plan.backfill_targets():
        partitions = backfill.load_partitions(conn, name, target.table)
        if not partitions:
            partitions = backfill.plan_partitions(conn, plan.schema, target, parallelism)
            backfill.init_checkpoints(conn, name, target, partitions)
        total = backfill.estimate_rows(conn, plan.schema, target.table)
        tables.append(TablePlan(table=target.table, partitions=len(partitions), rows_total=total))
    return tables


def backfill_partition(
    conn: psycopg.Connection,
    name: str,
    table: str,
    partition: int,
    throttle: Throttle,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    standby_dsn: Callable[[str], str] | None = None,
    on_hold: Callable[[Hold | None], None] | None = None,
) -> Progress:
    """Walk one partition `plan_backfill` recorded, from its checkpoint (see `backfill.run_partition`), holding
    for the replicas (`throttle.replication`; its standbys are worker targets `standby_dsn` resolves)."""
    plan = plan_of(load_record(conn, name))
    target = next((t for t in plan.backfill_targets() if t.table == table), None)
    if target is None:
        raise MigrationStateError(f"table {table!r} needs no backfill in {name!r}")
    hold_reason = replication.hold_reason_hook(
        conn, throttle.replication, standby_dsn or _no_standby_targets, on_hold or (lambda hold: None)
    )
    return backfill.run_partition(
        conn, name, plan.schema, target, partition, throttle, on_progress, should_stop, hold_reason
    )


def _no_standby_targets(name: str) -> str:
    raise MigrationStateError(f"standby {name!r} is a worker target, and this caller resolves no targets")
