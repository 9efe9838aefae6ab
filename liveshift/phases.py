"""The phases of one migration against one database: each call is idempotent and retry-safe.

A durable workflow calls these (through thin activities) and may call any of them twice; the
migration's record in `liveshift.migrations` (store/record.py) and the guards on every step make that
harmless. What refuses a migration lives in preflight/, the SQL of each phase in ddl/ (run by its
executor), the backfill in backfill/.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import errors

from liveshift import lifecycle, preflight
from liveshift.backfill import replication
from liveshift.backfill.partitions import estimate_rows, plan_partitions
from liveshift.backfill.rebuild import leftover_steps, rebuild_steps
from liveshift.backfill.walk import NO_PARTITION_HOOKS, PartitionHooks, run_partition
from liveshift.catalog import schema_exists
from liveshift.catalog.fingerprint import read_fingerprint
from liveshift.ddl.executor import StepRunner, check_policy
from liveshift.errors import (
    ContractRefused,
    MigrationStateError,
    SpecError,
    VersionsBusy,
    describe,
    is_deterministic,
)
from liveshift.lifecycle import IN_FLIGHT, CoreAction, Status
from liveshift.plan import MigrationPlan
from liveshift.spec import Migration
from liveshift.store import checkpoints
from liveshift.store import record as records
from liveshift.store.record import MigrationRecord, load_record
from liveshift.store.schema import bootstrap
from liveshift.values import LockPolicy, Prepared, Progress, TablePlan, Throttle, VerifyReport
from liveshift.verify import verify as verify_rows
from liveshift.versions import compose, grants
from liveshift.versions.compose import plan_of
from liveshift.versions.schemas import candidate_share, promote, set_candidate

log = logging.getLogger(__name__)

# the default policy, heard by nobody (the CLI and tests); an activity hands down its own runner
QUIET = StepRunner()


def prepare(conn: psycopg.Connection, migration: Migration, file: str | None = None) -> MigrationPlan:
    """Validate against the live catalog and record the migration with its catalog snapshot.

    Idempotent: preparing the same migration again returns the recorded plan.
    """
    preflight.privileges.check_schemas(conn, file)  # before reading liveshift's state
    record = records.find_if_any(conn, migration.name)
    spec = migration.model_dump(mode="json", by_alias=True)
    if record is not None and record.status in IN_FLIGHT and record.spec == spec:
        return plan_of(record)
    for _ in range(_PLAN_AGAIN):
        versions = _versions_now(conn, migration)
        plan = preflight.validate(conn, migration, file)  # before writing anything: bad input leaves no trace
        bootstrap(conn)
        if _record(conn, migration, plan, versions, file):
            return plan
    raise VersionsBusy(
        f"the versions of schema {migration.schema_name!r} kept changing while {migration.name!r} was planned"
    )


# how many times prepare plans again when the schema's versions changed while it planned (a migration of other
# tables prepared, completed or rolled back meanwhile)
_PLAN_AGAIN = 3


def _record(
    conn: psycopg.Connection,
    migration: Migration,
    plan: MigrationPlan,
    versions: tuple[str | None, list[str]],
    file: str | None,
) -> bool:
    """Record the prepared migration under the schema's lock, which orders prepares and contracts: False when the
    schema's versions changed since it was planned (its snapshot may be stale), refused when it overlaps."""
    with conn.transaction():
        compose.lock_versions(conn, plan.schema)
        compose.check_disjoint(plan, compose.others_in_flight(conn, plan.schema, migration.name), file)
        if _versions_now(conn, migration) != versions:
            return False
        record = records.find(conn, migration.name)
        if record is not None and record.status == Status.ROLLED_BACK:
            records.delete(conn, migration.name)
        spec = migration.model_dump(mode="json", by_alias=True)
        try:
            records.insert(conn, migration.name, spec, plan.physical, plan.blue, plan.green, plan.create_blue)
        except errors.UniqueViolation:
            raise SpecError(f"a migration named {migration.name!r} already exists", file=file, field="name") from None
    return True


def _versions_now(conn: psycopg.Connection, migration: Migration) -> tuple[str | None, list[str]]:
    """The schema's current version and its other in-flight migrations: what a plan was made against."""
    if not schema_exists(conn, "liveshift"):
        return None, []
    schema = migration.schema_name
    others = [n for n in records.in_flight(conn, schema) if n != migration.name]
    return records.current_version(conn, schema), others


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


def expand(conn: psycopg.Connection, name: str, *, runner: StepRunner = QUIET) -> None:
    record = load_record(conn, name)
    _require(record, lifecycle.EXPAND)
    with compose.views_lock(conn, record.schema_name):  # no hand-over between reading the record and the views
        compose.expand_may_start(conn, record.schema_name, name)
        plan = plan_of(load_record(conn, name))
        runner.run(conn, plan.phases()["expand"])
    grants.sync(conn, plan)  # the views exist now: the roles of the tables get them
    records.set_status(conn, name, Status.EXPANDED)


def validate_constraints(conn: psycopg.Connection, name: str, *, runner: StepRunner = QUIET) -> None:
    """After backfill: VALIDATE the constraints expand added NOT VALID, then rebuild the indexes the backfill
    doubled (backfill/rebuild.py); reads and writes continue."""
    record = load_record(conn, name)
    _require(record, lifecycle.VALIDATE_CONSTRAINTS)
    plan = plan_of(record)
    runner.run(conn, plan.validate_steps())
    runner.run(conn, rebuild_steps(conn, plan))
    if record.status == Status.EXPANDED:
        records.set_status(conn, name, Status.BACKFILLED)


def set_paused(conn: psycopg.Connection, name: str, paused: bool) -> None:
    records.set_paused(conn, name, paused)


def cutover(conn: psycopg.Connection, name: str, percent: int = 100) -> None:
    """Point applications at green (all of them, or a canary percentage). Reversible until contract."""
    record = load_record(conn, name)
    _require(record, lifecycle.CUTOVER)
    grants.sync(conn, plan_of(record))  # grants made on the tables meanwhile reach green first
    with conn.transaction():  # one migration of the schema at a time holds the candidate version
        compose.lock_versions(conn, record.schema_name)
        compose.claim_candidate(conn, record.schema_name, record.green_version)
        conn.execute(set_candidate(record.schema_name, record.green_version, percent))
        records.set_status(conn, name, Status.CUT_OVER)  # at 0%, too: shift moves clients from there


def shift(conn: psycopg.Connection, name: str, percent: int) -> None:
    """Set green's share of clients (0..100) between cutover and contract; blue stays whole through the dual
    writes, so any share, up or down, is safe. The record's row lock orders it against a concurrent rollback
    or contract, which change the status first."""
    if not 0 <= percent <= 100:
        raise MigrationStateError(f"cannot shift migration {name!r} to {percent}%: the share is 0..100")
    load_record(conn, name)  # a clear error for an unknown migration
    with conn.transaction():
        records.lock_row(conn, name)
        record = load_record(conn, name)
        if percent == 0 and record.status == Status.VERIFIED:
            return  # a rollback after a cutover whose answer was lost: it did not commit, no client is on green
        if record.status != Status.CUT_OVER:
            raise MigrationStateError(f"cannot shift migration {name!r}: it is {record.status}, not cut over")
        conn.execute(set_candidate(record.schema_name, record.green_version, percent))


def green_share(conn: psycopg.Connection, record: MigrationRecord) -> int:
    """Green's share of clients now: 0 before cutover or after a rollback, 100 once promoted."""
    row = conn.execute(candidate_share(record.schema_name)).fetchone()
    if row is None or row[0] != record.green_version:
        return 100 if records.current_version(conn, record.schema_name) == record.green_version else 0
    return int(row[1])


def try_contract(conn: psycopg.Connection, name: str, *, runner: StepRunner = QUIET) -> None:
    """Contract's statements tried in one transaction that is rolled back, before contract begins: a failure no
    retry can fix (an object that reads a dropped column, created after prepare; a missing privilege) is
    ContractRefused, with nothing changed and the migration still cut over (rollback is still possible)."""
    record = load_record(conn, name)
    if record.status != Status.CUT_OVER:  # contract has begun or ended: there is nothing left to try
        return
    bootstrap(conn)  # a migration prepared by an older liveshift: the store its contract steps record in
    try:
        runner.trial(conn, plan_of(record).phases()["contract"])
    except psycopg.Error as exc:
        if not is_deterministic(exc):
            raise
        raise ContractRefused(f"contract would fail, nothing was changed: {describe(exc)}") from exc


def contract(conn: psycopg.Connection, name: str, *, runner: StepRunner = QUIET) -> None:
    """Remove the old shape. Irreversible: only after cutover."""
    record = load_record(conn, name)
    if record.status == Status.COMPLETE:
        return
    _require(record, lifecycle.CONTRACT)
    bootstrap(conn)  # a migration prepared by an older liveshift: the store its contract steps record in
    plan = plan_of(record)
    with conn.transaction():  # the row lock orders it against a concurrent shift
        records.lock_row(conn, name)
        if record.status == Status.CUT_OVER and (share := green_share(conn, record)) < 100:
            raise MigrationStateError(f"cannot contract migration {name!r}: green has {share}% of clients, not 100%")
        if record.status == Status.CUT_OVER:  # once contract has begun, the columns the sync knows may be renamed
            grants.sync(conn, plan)  # the hidden columns' grants are the ones contract gives the table's columns
            compose.hand_over(conn, plan)  # other in-flight migrations of the schema: their greens and records
        records.set_status(conn, name, Status.CONTRACTING)
    runner.run(conn, plan.phases()["contract"])
    conn.execute(promote(record.schema_name, record.green_version))
    checkpoints.clear(conn, name)
    compose.forget_handovers(conn, name)
    # before COMPLETE: a contract retried after a crash here records it again (`liveshift fleet drift` reads it)
    records.record_fingerprint(conn, name, read_fingerprint(conn, record.schema_name))
    records.set_status(conn, name, Status.COMPLETE)


def rollback(conn: psycopg.Connection, name: str, *, runner: StepRunner = QUIET, reason: str | None = None) -> None:
    """Undo everything expand did, keeping every row written meanwhile through either version."""
    record = load_record(conn, name)
    if record.status == Status.ROLLED_BACK:
        return
    if record.status not in lifecycle.ROLLBACK_STATUSES:
        why = "contract has begun" if record.status == Status.CONTRACTING else f"it is {record.status}"
        raise MigrationStateError(f"cannot roll back migration {name!r}: {why}")
    records.set_status(conn, name, Status.ROLLING_BACK, reason)
    if schema_exists(conn, "liveshift"):
        conn.execute(compose.release_candidate(record.schema_name, record.green_version))
    with compose.views_lock(conn, record.schema_name):  # a hand-over rebuilds no view of a green being dropped
        record = load_record(conn, name)
        if record.created_blue and compose.others_in_flight(conn, record.schema_name, name):
            # the other migrations' blue too: it stays, as a schema's version registered by `liveshift init` does
            record = record.model_copy(update={"created_blue": False})
        plan = plan_of(record)
        runner.run(conn, leftover_steps(conn, plan))  # a rebuild cancelled by this rollback leaves no invalid index
        runner.run(conn, plan.phases()["rollback"])
    checkpoints.clear(conn, name)
    records.set_status(conn, name, Status.ROLLED_BACK, reason)


def verify(conn: psycopg.Connection, name: str, chunk: int = 50_000) -> VerifyReport:
    """Compare the representations; marks the migration verified when they agree."""
    record = load_record(conn, name)
    _require(record, lifecycle.VERIFY)
    plan = plan_of(record)
    report = verify_rows(conn, plan, chunk)
    grants.sync(conn, plan)
    if report.ok and record.status in (Status.EXPANDED, Status.BACKFILLED):
        records.set_status(conn, name, Status.VERIFIED)
    return report


# backfill


def plan_backfill(conn: psycopg.Connection, name: str, parallelism: int) -> list[TablePlan]:
    """Split each table's key range and record the partitions once (a repeated call keeps their progress)."""
    plan = plan_of(load_record(conn, name))
    tables = []
    for target in plan.backfill_targets():
        partitions = checkpoints.load_partitions(conn, name, target.table)
        if not partitions:
            partitions = plan_partitions(conn, plan.schema, target, parallelism)
            checkpoints.init_checkpoints(conn, name, target.table, partitions)
        total = estimate_rows(conn, plan.schema, target.table)
        tables.append(TablePlan(table=target.table, partitions=len(partitions), rows_total=total))
    return tables


def backfill_partition(
    conn: psycopg.Connection,
    name: str,
    *,
    table: str,
    partition: int,
    throttle: Throttle,
    hooks: PartitionHooks = NO_PARTITION_HOOKS,
) -> Progress:
    """Walk one partition `plan_backfill` recorded, from its checkpoint (see `backfill.walk.run_partition`), holding
    for the replicas (`throttle.replication`; its standbys are worker targets `hooks.standby_dsn` resolves)."""
    plan = plan_of(load_record(conn, name))
    target = next((t for t in plan.backfill_targets() if t.table == table), None)
    if target is None:
        raise MigrationStateError(f"table {table!r} needs no backfill in {name!r}")
    hold_reason = replication.hold_reason_hook(conn, throttle.replication, hooks.standby_dsn, hooks.on_hold)
    return run_partition(
        conn,
        migration=name,
        schema=plan.schema,
        target=target,
        partition=partition,
        throttle=throttle,
        hooks=hooks,
        hold_reason=hold_reason,
    )
