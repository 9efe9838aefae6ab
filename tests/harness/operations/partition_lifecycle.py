"""Scenarios of the partition lifecycle (tests/integration/test_partition_lifecycle.py): a partition created,
attached and detached on `events` (range by day, a hash sub-level, and a DEFAULT partition, as partitioned.py
declares it) and on `ranged`, the same without a DEFAULT partition (where DETACH runs CONCURRENTLY); a partition
detached from `tenants` (hash) and from `readings` (range over two columns, a DEFAULT partition)."""

from __future__ import annotations

import psycopg

from tests.harness.operations.partitioned import EVENTS, FIRST_WRITE, ROWS, TENANTS
from tests.harness.scenario import Scenario, Side, Table, count

COLUMNS = (
    "id bigint NOT NULL, created_at date NOT NULL, kind text NOT NULL, n int, note text, PRIMARY KEY (id, created_at)"
)
VALUES = {"id": "g", "kind": "CASE WHEN g % 3 = 0 THEN 'click' ELSE 'view' END", "n": "g", "note": "'note ' || g"}

# events without a DEFAULT partition: 2024 and 2025 (hashed) only
RANGED = Table(
    "ranged",
    COLUMNS,
    rows=ROWS,
    values={**VALUES, "created_at": "date '2024-01-01' + (g * 3 % 730)"},
    options="PARTITION BY RANGE (created_at)",
    then=(
        "CREATE TABLE ranged_2024 PARTITION OF ranged FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE ranged_2025 PARTITION OF ranged FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
        "PARTITION BY HASH (id)",
        "CREATE TABLE ranged_2025_h0 PARTITION OF ranged_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
        "CREATE TABLE ranged_2025_h1 PARTITION OF ranged_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
        "CREATE INDEX ranged_kind_idx ON ranged (kind)",
    ),
)


def to_attach(parent: str) -> Table:
    """`<parent>_2030`, a table of 2030's rows shaped as `parent`'s partitions, with its indexes built already."""
    return Table(
        f"{parent}_2030",
        COLUMNS,
        rows=50,
        values={**VALUES, "id": f"{FIRST_WRITE * 2} + g", "created_at": "date '2030-01-01' + g"},
        then=(f"CREATE INDEX {parent}_2030_kind_idx ON {parent}_2030 (kind)",),
    )


def side(table: str, days: tuple[str, ...]) -> Side:
    """Blue and green write a row tagged n into `table` on one of `days` in turn, and read them back."""

    def write(c: psycopg.Connection, n: int) -> None:
        c.execute(
            f"INSERT INTO {table} (id, created_at, kind, n, note) VALUES (%s, %s, 'w', %s, 'w')",
            (FIRST_WRITE + n, days[n % len(days)], n),
        )

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        ids = [FIRST_WRITE + t for t in tags]
        assert count(c, f"SELECT count(*) FROM {table} WHERE id = ANY(%s)", ids) == len(tags)

    return Side(write, sees)


# range over two columns, with a DEFAULT partition
READINGS = Table(
    "readings",
    "site int NOT NULL, day date NOT NULL, v int, PRIMARY KEY (site, day, v)",
    rows=ROWS,
    values={"site": "g % 3", "day": "date '2024-01-01' + (g % 700)", "v": "g"},
    options="PARTITION BY RANGE (site, day)",
    then=(
        "CREATE TABLE readings_0 PARTITION OF readings FOR VALUES FROM (0, MINVALUE) TO (1, MINVALUE)",
        "CREATE TABLE readings_1_2024 PARTITION OF readings FOR VALUES FROM (1, '2024-01-01') TO (1, '2025-01-01')",
        "CREATE TABLE readings_default PARTITION OF readings DEFAULT",
    ),
)


def readings_side() -> Side:
    """Rows of site 0 and 2 (readings_1_2024 is the one detached)."""

    def write(c: psycopg.Connection, n: int) -> None:
        c.execute("INSERT INTO readings (site, day, v) VALUES (%s, '2024-06-01', %s)", (2 * (n % 2), FIRST_WRITE + n))

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        vs = [FIRST_WRITE + t for t in tags]
        assert count(c, "SELECT count(*) FROM readings WHERE v = ANY(%s)", vs) == len(tags)

    return Side(write, sees)


# the n-th id of tenants' hash partitions 0 and 1 (tenants_h2 is the one detached)
_TENANT_ID = (
    "SELECT g FROM generate_series(%s::bigint, %s::bigint + 1000) g WHERE satisfies_hash_partition("
    "'public.tenants'::regclass, 3, 0, g) OR satisfies_hash_partition('public.tenants'::regclass, 3, 1, g) "
    "ORDER BY g LIMIT 1"
)


def _tenant_id(c: psycopg.Connection, n: int) -> int:
    row = c.execute(_TENANT_ID, (FIRST_WRITE + 1000 * n, FIRST_WRITE + 1000 * n)).fetchone()
    assert row is not None
    return int(row[0])


def tenants_side() -> Side:
    def write(c: psycopg.Connection, n: int) -> None:
        c.execute("INSERT INTO tenants (id, name, seats) VALUES (%s, 'w', %s)", (_tenant_id(c, n), n))

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        ids = [_tenant_id(c, t) for t in tags]
        assert count(c, "SELECT count(*) FROM tenants WHERE id = ANY(%s)", ids) == len(tags)

    return Side(write, sees)


def scenario(name: str, op: str, plain: str, tables: tuple[Table, ...], writes: Side) -> Scenario:
    return Scenario(
        tables=tables, migration=f"name: {name}\noperations:\n  - {op}\n", plain=plain, blue=writes, green=writes
    )


NEXT = "from: '2030-01-01', to: '2031-01-01'"
BOUND = "FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')"
# every partition of events but the new one, and of ranged; outside the partition a scenario detaches
EVENTS_DAYS = ("2024-03-01", "2025-02-01", "2025-08-01", "2027-01-01")
RANGED_DAYS = ("2024-03-01", "2025-02-01", "2025-08-01")

SCENARIOS = {
    "create_with_default": scenario(
        "events_create_2030",
        f"{{op: create_partition, table: events, partition: events_2030, {NEXT}}}",
        f"CREATE TABLE events_2030 PARTITION OF events {BOUND}",
        (EVENTS,),
        side("events", EVENTS_DAYS),
    ),
    "create": scenario(
        "ranged_create_2030",
        f"{{op: create_partition, table: ranged, partition: ranged_2030, {NEXT}}}",
        f"CREATE TABLE ranged_2030 PARTITION OF ranged {BOUND}",
        (RANGED,),
        side("ranged", RANGED_DAYS),
    ),
    "attach_with_default": scenario(
        "events_attach_2030",
        f"{{op: attach_partition, table: events, partition: events_2030, {NEXT}}}",
        f"ALTER TABLE events ATTACH PARTITION events_2030 {BOUND}",
        (EVENTS, to_attach("events")),
        side("events", EVENTS_DAYS),
    ),
    "attach": scenario(
        "ranged_attach_2030",
        f"{{op: attach_partition, table: ranged, partition: ranged_2030, {NEXT}}}",
        f"ALTER TABLE ranged ATTACH PARTITION ranged_2030 {BOUND}",
        (RANGED, to_attach("ranged")),
        side("ranged", RANGED_DAYS),
    ),
    "detach_with_default": scenario(
        "events_detach_2024",
        "{op: detach_partition, table: events, partition: events_2024}",
        "ALTER TABLE events DETACH PARTITION events_2024",
        (EVENTS,),
        side("events", EVENTS_DAYS[1:]),
    ),
    "detach": scenario(
        "ranged_detach_2024",
        "{op: detach_partition, table: ranged, partition: ranged_2024}",
        # CONCURRENTLY leaves the partition's bound on the detached table as a CHECK, as PostgreSQL documents
        "ALTER TABLE ranged DETACH PARTITION ranged_2024 CONCURRENTLY",
        (RANGED,),
        side("ranged", RANGED_DAYS[1:]),
    ),
    "detach_hash": scenario(
        "tenants_detach_h2",
        "{op: detach_partition, table: tenants, partition: tenants_h2}",
        "ALTER TABLE tenants DETACH PARTITION tenants_h2 CONCURRENTLY",
        (TENANTS,),
        tenants_side(),
    ),
    "detach_two_columns": scenario(
        "readings_detach_1_2024",
        "{op: detach_partition, table: readings, partition: readings_1_2024}",
        "ALTER TABLE readings DETACH PARTITION readings_1_2024",
        (READINGS,),
        readings_side(),
    ),
}
