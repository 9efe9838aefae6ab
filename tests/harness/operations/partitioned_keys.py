"""Scenarios of indexes and keys on partitioned tables (tests/integration/test_partitioned_keys.py), on range (a
DEFAULT partition and a hash-partitioned second level: `events`), list (a DEFAULT partition: `logs`) and hash
(`tenants`) parents: a column swap that rebuilds an index, a unique constraint and a foreign key per partition; a
primary key swapped under a partitioned table's foreign key; a unique constraint added; a foreign key referencing
a partitioned table."""

from __future__ import annotations

from dataclasses import replace

from tests.harness.operations.partitioned import (
    BOTH,
    EVENTS,
    LOGS,
    TENANTS,
    _sees_logs,
    _sees_tenants,
    _write_log,
    _write_tenant,
)
from tests.harness.scenario import Scenario, Side, Table, same_side

# ids 0..999: every n a client writes (its tag) and every n the tables hold
OWNERS = Table("owners", "id int PRIMARY KEY", rows=1000, values={"id": "g - 1"})

# an index, a unique constraint (which includes the partition keys) and a foreign key over n, at every level
EVENTS_KEYED = replace(
    EVENTS,
    then=(
        *EVENTS.then,
        "CREATE INDEX events_n_idx ON events (n)",
        "ALTER TABLE events ADD CONSTRAINT events_n_key UNIQUE (n, id, created_at)",
        "ALTER TABLE events ADD CONSTRAINT events_n_fk FOREIGN KEY (n) REFERENCES owners (id)",
    ),
)
LOGS_KEYED = replace(
    LOGS,
    then=(
        *LOGS.then,
        "CREATE INDEX logs_n_idx ON logs (n) WHERE n > 0",
        "ALTER TABLE logs ADD CONSTRAINT logs_n_level_key UNIQUE (n, level)",
    ),
)
TENANTS_KEYED = replace(
    TENANTS,
    then=(
        *TENANTS.then,
        "CREATE INDEX tenants_seats_idx ON tenants (seats DESC)",
        "ALTER TABLE tenants ADD CONSTRAINT tenants_seats_id_key UNIQUE (seats, id)",
    ),
)


LOG_SIDES = same_side(_write_log, _sees_logs)
TENANT_SIDES = same_side(_write_tenant, _sees_tenants)


def _scenario(name: str, op: str, plain: str, tables: tuple[Table, ...], sides: tuple[Side, Side]) -> Scenario:
    return Scenario(
        tables=tables,
        migration=f"name: {name}\noperations:\n  - {op}\n",
        plain=plain,
        blue=sides[0],
        green=sides[1],
    )


def _swap(table: str, column: str, tables: tuple[Table, ...], sides: tuple[Side, Side], unique: str = "") -> Scenario:
    """`column` of `table` to bigint, and, given `unique` (name: columns), a unique constraint added beside."""
    ops = [f"{{op: alter_column, table: {table}, column: {column}, type: bigint}}"]
    plain = [f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint"]
    if unique:
        name, columns = unique.split(": ")
        ops.append(f"{{op: add_constraint, table: {table}, name: {name}, type: unique, columns: [{columns}]}}")
        plain.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
    migration = f"name: {table}_{column}_bigint\noperations:\n" + "".join(f"  - {op}\n" for op in ops)
    return Scenario(tables, migration, "; ".join(plain), sides[0], sides[1])


# a plain table whose rows reference events' rows (its key includes its partition key)
CLICKS = Table(
    "clicks",
    "id int PRIMARY KEY, event_id bigint, event_day date",
    rows=300,
    values={"id": "g", "event_id": "g", "event_day": "date '2024-06-01' + (g * 3 % 900)"},
)

SCENARIOS = {
    # the index, the unique constraint and the foreign key over the column rebuilt per partition; a unique
    # constraint added per partition
    "range": _swap("events", "n", (OWNERS, EVENTS_KEYED), BOTH, "events_kind_key: kind, id, created_at"),
    "list": _swap("logs", "n", (LOGS_KEYED,), LOG_SIDES),
    "hash": _swap("tenants", "seats", (TENANTS_KEYED,), TENANT_SIDES, "tenants_name_id_key: name, id"),
    # the key events.n references, swapped: events.n with it, its foreign key rebuilt per partition
    "key_referenced_by_range": Scenario(
        (OWNERS, EVENTS_KEYED),
        "name: owners_id_bigint\noperations:\n  - {op: alter_column, table: owners, column: id, type: bigint}\n",
        "ALTER TABLE owners ALTER COLUMN id TYPE bigint; ALTER TABLE events ALTER COLUMN n TYPE bigint",
        *BOTH,
    ),
    # a foreign key referencing a partitioned table: NOT VALID, then validated, as any (15 as 18)
    "references_range": Scenario(
        (EVENTS, CLICKS),
        "name: clicks_event_fk\noperations:\n  - {op: add_constraint, table: clicks, name: clicks_event_fk, "
        "type: foreign_key, columns: [event_id, event_day], references: {table: events, columns: [id, created_at]}}\n",
        "ALTER TABLE clicks ADD CONSTRAINT clicks_event_fk FOREIGN KEY (event_id, event_day) "
        "REFERENCES events (id, created_at)",
        *BOTH,
    ),
}
