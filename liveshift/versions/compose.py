"""Several migrations in flight on one schema: which may run side by side, and how their versions compose.

Two migrations may be in flight together when they are disjoint (docs/design.md, "Several migrations in
flight on one schema"): neither *changes* a table the other *reaches*. A migration changes the tables its
operations name (both names of a rename, the referenced table of a new foreign key), the tables its plan
fills or triggers, and every table whose shape it alters, creates or drops; it reaches those, the tables a
foreign key links to them (either direction), and every table an object reading one of them (a view, a
function, a policy …) also reads. raw_sql may touch anything, so a migration holding one runs alone.

Every in-flight migration of a schema has the schema's current version as its blue, and its green shows its
own tables in their new shape and every other table in its current shape. So:

- a migration prepared while another is in flight plans against the other's tables as they were before the
  other's expand (`current_shape`), never against its hidden columns or new tables;
- the schema's candidate version (cutover to contract) is held by one migration at a time (`cutover` waits);
- when one contracts, it hands over: as contract begins (`hand_over`) the others' records take its green as
  their blue and its final tables into their snapshots, so their later phases, and the next migration's blue,
  see the schema as it will be; then each of its tables is shown in its final shape in the other greens (a copy
  of its own green's view, with its rights and grants) in the same transaction that drops the table's
  dual-write trigger (statements.mirror_views_step), before any old column goes. Nothing is needed at a
  rollback: the other greens read only the columns that were there before, which a rollback keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from liveshift.catalog import Catalog, Table, schema_exists
from liveshift.ddl.statements import VIEWS_LOCK
from liveshift.errors import SpecError, VersionsBusy
from liveshift.lifecycle import Status
from liveshift.plan import MigrationPlan, build_plan
from liveshift.spec import Migration
from liveshift.store import record as records
from liveshift.store.record import MigrationRecord
from liveshift.versions.schemas import candidate_share

# advisory lock key (with hashtext(schema) as the second): the schema's set of in-flight migrations and its
# versions (prepare, cutover, the hand-over); statements.VIEWS_LOCK: a green's views being created or dropped
_VERSIONS_LOCK = 0x6C73766E  # 'lsvn'


def plan_of(record: MigrationRecord) -> MigrationPlan:
    """A migration's plan, recomputed from its record (the snapshot before expand, its blue version)."""
    migration = Migration.model_validate(record.spec)
    return build_plan(migration, record.catalog_before, None if record.created_blue else record.blue_version)


def lock_versions(conn: psycopg.Connection, schema: str) -> None:
    """The schema's versions lock, to the end of the caller's transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_VERSIONS_LOCK, schema))


@contextmanager
def views_lock(conn: psycopg.Connection, schema: str) -> Iterator[None]:
    """Held (session level) while an expand creates, or a rollback drops, a green's views, so a hand-over
    rebuilds them neither between an expand's reading of its record and its creating them nor in a schema
    being dropped."""
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (VIEWS_LOCK, schema))
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:  # a lost session has released it
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (VIEWS_LOCK, schema))


def others_in_flight(conn: psycopg.Connection, schema: str, name: str) -> list[MigrationRecord]:
    """The records of the schema's other in-flight migrations, oldest first ([] where liveshift never ran)."""
    if not schema_exists(conn, "liveshift"):
        return []
    found = (records.find(conn, n) for n in records.in_flight(conn, schema) if n != name)
    return [r for r in found if r is not None]


# what a migration changes and what it reaches


def _linked(catalog: Catalog, name: str) -> set[str]:
    """The tables of the schema a foreign key links to `name`, either way."""
    table = catalog.tables.get(name)
    if table is None:
        return set()
    out = {c.ref_table for c in table.constraints if c.kind == "foreign_key" and c.ref_schema == catalog.schema_name}
    out |= {fk.table for fk in table.referenced_by if fk.schema_name == catalog.schema_name}
    return {t for t in out if t}


def reached_tables(plan: MigrationPlan) -> set[str]:
    """What the migration changes, the tables linked to those by a foreign key, and the tables an object that
    reads one of them reads too (a view over two tables, a function, a policy)."""
    changed = plan.changed_tables()
    out = set(changed)
    for catalog in (plan.physical, plan.final):
        for name in changed:
            out |= _linked(catalog, name)
    schema = plan.schema
    for dependent in plan.physical.dependents:
        read = {r.relation for r in dependent.reads if r.schema_name == schema}
        if dependent.on:
            read.add(dependent.on.split(".")[-1].strip('"'))
        if read & changed:
            out |= read
    return out


def _has_raw_sql(plan: MigrationPlan) -> bool:
    return any(op.op_name == "raw_sql" for op, _, _ in plan.ops)


def _changes_types(plan: MigrationPlan) -> bool:
    return any(op.changes_types for op, _, _ in plan.ops)


def check_disjoint(plan: MigrationPlan, others: list[MigrationRecord], file: str | None) -> None:
    """Refuse a migration that overlaps one in flight on its schema, naming that migration and a shared table."""
    for other in others:
        if other.status == Status.CONTRACTING:
            raise SpecError(
                f"migration {other.name!r} is contracting on schema {plan.schema!r}; plan again once it completes",
                file=file,
                field="operations",
            )
        theirs = plan_of(other)
        if _has_raw_sql(plan) or _has_raw_sql(theirs):
            which = plan.migration.name if _has_raw_sql(plan) else other.name
            raise SpecError(
                f"migration {other.name!r} is in flight on schema {plan.schema!r}, and {which!r} runs raw_sql, "
                "which may touch any table: it runs alone; finish or roll back the other first",
                file=file,
                field="operations",
            )
        if _changes_types(plan) or _changes_types(theirs):
            which = plan.migration.name if _changes_types(plan) else other.name
            raise SpecError(
                f"migration {other.name!r} is in flight on schema {plan.schema!r}, and {which!r} changes an enum "
                "type, which any table may use: it runs alone; finish or roll back the other first",
                file=file,
                field="operations",
            )
        # the table in the way: one the other migration changes, else one it reaches that this one changes
        shared = theirs.changed_tables() & reached_tables(plan) or plan.changed_tables() & reached_tables(theirs)
        if shared:
            raise SpecError(
                f"migration {other.name!r} is still in flight on schema {plan.schema!r} and changes or reads "
                f"table {sorted(shared)[0]!r}, which this migration changes or reads; finish or roll it back first",
                file=file,
                field="operations",
            )


def current_shape(catalog: Catalog, others: list[MigrationRecord]) -> Catalog:
    """The live catalog with each other in-flight migration's tables as they were before its expand: their
    hidden columns, row markers and new tables are not part of the schema's current shape."""
    tables = dict(catalog.tables)
    for other in others:
        theirs = plan_of(other)
        for name in theirs.changed_tables():
            tables.pop(name, None)
            if name in theirs.physical.tables:
                tables[name] = theirs.physical.tables[name]
    return catalog.model_copy(update={"tables": tables})


# the candidate version: one migration at a time


def claim_candidate(conn: psycopg.Connection, schema: str, green: str) -> None:
    """Refuse (for now: VersionsBusy is retried) a cutover while another migration's green is the candidate."""
    row = conn.execute(candidate_share(schema)).fetchone()
    if row is None or row[0] is None or row[0] == green:
        return
    holder = conn.execute(
        "SELECT name FROM liveshift.migrations WHERE schema_name = %s AND green_version = %s ORDER BY created_at DESC",
        (schema, row[0]),
    ).fetchone()
    raise VersionsBusy(
        f"migration {holder[0] if holder else row[0]!r} holds schema {schema!r}'s candidate version (cut over, "
        "not yet contracted): this cutover waits until it completes or rolls back"
    )


def release_candidate(schema: str, green: str) -> sql.Composable:
    """Clear the candidate version if it is `green` (a rollback leaves another migration's candidate alone)."""
    return sql.SQL(
        "UPDATE liveshift.active_versions SET candidate_version = NULL, candidate_percent = 0, updated_at = now() "
        "WHERE schema_name = {} AND candidate_version = {}"
    ).format(sql.Literal(schema), sql.Literal(green))


# the hand-over at contract


def settled(table: Table) -> Table:
    """A final table as contract leaves it: every column under its own name, the table under its name."""
    columns = [c.model_copy(update={"stored_as": None}) for c in table.columns]
    return table.model_copy(update={"stored_as": None, "columns": columns})


def _settled_catalog(catalog: Catalog, plan: MigrationPlan, changed: set[str]) -> Catalog:
    tables = {n: t for n, t in catalog.tables.items() if n not in changed}
    for table in plan.final.tables.values():
        if table.name in changed or table.physical in changed:
            tables[table.name] = settled(table)
    return catalog.model_copy(update={"tables": tables})


def hand_over(conn: psycopg.Connection, plan: MigrationPlan, lock_timeout_ms: int = 2000) -> list[str]:
    """As `plan`'s contract begins, in the caller's transaction (the one that marks it contracting): the schema's
    other in-flight migrations take its green as their blue (contract drops the blue they shared, and its green
    becomes the current version) and its tables, as contract leaves them, into their snapshots. Their greens'
    views of its tables are replaced later, table by table, by contract's own steps (`mirror_views_step`).
    Returns the names of the migrations handed over to."""
    if not others_in_flight(conn, plan.schema, plan.migration.name):
        return []
    # bounded waits: behind another migration's expand or rollback, contract fails transiently and is retried
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
    lock_versions(conn, plan.schema)
    # an expand of another migration reading its record and creating its views finishes first (and the next
    # waits for this contract: `expand_may_start`)
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (VIEWS_LOCK, plan.schema))
    others = others_in_flight(conn, plan.schema, plan.migration.name)
    changed = plan.changed_tables()
    for other in others:
        snapshot = _settled_catalog(other.catalog_before, plan, changed).model_dump(mode="json")
        conn.execute(
            "UPDATE liveshift.migrations SET blue_version = %s, created_blue = false, catalog_before = %s, "
            "updated_at = now() WHERE name = %s",
            (plan.green, Jsonb(snapshot), other.name),
        )
    return [o.name for o in others]


def expand_may_start(conn: psycopg.Connection, schema: str, name: str) -> None:
    """Under the views lock: an expand waits (VersionsBusy is retried) while another migration of the schema
    contracts, since its green's views of that migration's tables are right only before or after the contract."""
    busy = [o.name for o in others_in_flight(conn, schema, name) if o.status == Status.CONTRACTING]
    if busy:
        raise VersionsBusy(
            f"migration {busy[0]!r} is contracting on schema {schema!r}: expand waits until it completes"
        )


def forget_handovers(conn: psycopg.Connection, name: str) -> None:
    conn.execute("DELETE FROM liveshift.view_handovers WHERE migration = %s", (name,))
