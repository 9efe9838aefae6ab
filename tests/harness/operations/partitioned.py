"""Scenarios on a partitioned table (tests/integration/test_partitioned.py): `events`, range-partitioned by day
over a year's partition, a year's partition itself hash-partitioned (a second level), and a DEFAULT partition,
its rows spread over all of them; `logs`, list-partitioned, without a key."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count, same_side

ROWS = 600
FIRST_WRITE = 1_000_000  # ids the clients write: tag + this

EVENTS = Table(
    "events",
    "id bigint NOT NULL, created_at date NOT NULL, kind text NOT NULL, n int, note text, PRIMARY KEY (id, created_at)",
    rows=ROWS,
    values={
        "id": "g",
        "created_at": "date '2024-06-01' + (g * 3 % 900)",  # 2024, 2025 (two hash partitions) and the DEFAULT
        "kind": "CASE WHEN g % 3 = 0 THEN 'click' ELSE 'view' END",
        "n": "g",
        "note": "CASE WHEN g % 4 = 0 THEN NULL ELSE 'note ' || g END",
    },
    options="PARTITION BY RANGE (created_at)",
    then=(
        "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
        "PARTITION BY HASH (id)",
        "CREATE TABLE events_2025_h0 PARTITION OF events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
        "CREATE TABLE events_2025_h1 PARTITION OF events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
        "CREATE TABLE events_default PARTITION OF events DEFAULT",
        "CREATE INDEX events_kind_idx ON events (kind)",
    ),
)

# list-partitioned, without a key: each partition is backfilled and verified by ctid block ranges
LOGS = Table(
    "logs",
    "level text NOT NULL, message text, n int",
    rows=ROWS,
    values={"level": "(ARRAY['info', 'warn', 'error', 'debug'])[g % 4 + 1]", "message": "repeat('m', 200)", "n": "g"},
    options="PARTITION BY LIST (level)",
    then=(
        "CREATE TABLE logs_info PARTITION OF logs FOR VALUES IN ('info')",
        "CREATE TABLE logs_warn PARTITION OF logs FOR VALUES IN ('warn', 'error')",
        "CREATE TABLE logs_other PARTITION OF logs DEFAULT",
    ),
)

# hash-partitioned by its key
TENANTS = Table(
    "tenants",
    "id bigint PRIMARY KEY, name text NOT NULL, seats int",
    rows=ROWS,
    values={"id": "g", "name": "'t' || g", "seats": "g % 50"},
    options="PARTITION BY HASH (id)",
    then=tuple(
        f"CREATE TABLE tenants_h{r} PARTITION OF tenants FOR VALUES WITH (MODULUS 3, REMAINDER {r})" for r in range(3)
    ),
)

USERS = Table("users", "id bigint PRIMARY KEY", rows=1000, values={"id": "g"})  # every n the events hold


def day(n: int) -> str:
    """A day for tag n, over every partition in turn."""
    return ("2024-03-01", "2025-02-01", "2025-08-01", "2027-01-01")[n % 4]


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO events (id, created_at, kind, n, note) VALUES (%s, %s, 'w', %s, 'w')",
        (FIRST_WRITE + n, day(n), n),
    )


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    ids = [FIRST_WRITE + t for t in tags]
    assert count(c, "SELECT count(*) FROM events WHERE id = ANY(%s)", ids) == len(tags)


BOTH = same_side(_write, _sees)


def scenario(
    name: str, op: str, plain: str, sides: tuple[Side, Side] = BOTH, tables: tuple[Table, ...] = ()
) -> Scenario:
    return Scenario(
        tables=(*tables, EVENTS),
        migration=f"name: {name}\noperations:\n  - {op}\n",
        plain=plain,
        blue=sides[0],
        green=sides[1],
    )


def _write_green_priority(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO events (id, created_at, kind, n, note, priority) VALUES (%s, %s, 'w', %s, 'w', 5)",
        (FIRST_WRITE + n, day(n), n),
    )


def _write_green_renamed(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO events (id, created_at, category, n, note) VALUES (%s, %s, 'w', %s, 'w')",
        (FIRST_WRITE + n, day(n), n),
    )


def _write_green_dropped(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO events (id, created_at, kind, n) VALUES (%s, %s, 'w', %s)", (FIRST_WRITE + n, day(n), n))


ALTER_TYPE = scenario(
    "events_n_bigint",
    "{op: alter_column, table: events, column: n, type: bigint}",
    "ALTER TABLE events ALTER COLUMN n TYPE bigint",
)
# its index over kind (per leaf, attached to the partitioned one) built in the validate phase, after the backfill
KIND_INDEX_AFTER = scenario(
    "events_kind_varchar",
    "{op: alter_column, table: events, column: kind, type: varchar(20), indexes: after_backfill}",
    "ALTER TABLE events ALTER COLUMN kind TYPE varchar(20)",
)
ADD_NOT_NULL = scenario(
    "events_priority",
    "{op: add_column, table: events, column: {name: priority, type: int, nullable: false, default: '0'}, "
    "up: \"CASE WHEN kind = 'click' THEN 2 ELSE 1 END\"}",
    "ALTER TABLE events ADD COLUMN priority int NOT NULL DEFAULT 0",
    (Side(_write, _sees), Side(_write_green_priority, _sees)),
)
SET_NOT_NULL = scenario(
    "events_note_not_null",
    "{op: alter_column, table: events, column: note, nullable: false, up: \"coalesce(note, '(none)')\"}",
    "ALTER TABLE events ALTER COLUMN note SET NOT NULL",
)
CREATE_INDEX = scenario(
    "events_n_idx",
    "{op: create_index, table: events, name: events_n_idx, columns: [n]}",
    "CREATE INDEX events_n_idx ON events (n)",
)
CREATE_UNIQUE = scenario(
    "events_n_day_key",
    "{op: create_index, table: events, name: events_n_day_key, columns: [n, created_at, id], unique: true}",
    "CREATE UNIQUE INDEX events_n_day_key ON events (n, created_at, id)",
)
DROP_INDEX = scenario("events_drop_kind_idx", "{op: drop_index, name: events_kind_idx}", "DROP INDEX events_kind_idx")
RENAME = scenario(
    "events_kind_category",
    "{op: rename_column, table: events, column: kind, to: category}",
    "ALTER TABLE events RENAME COLUMN kind TO category",
    (Side(_write, _sees), Side(_write_green_renamed, _sees)),
)
DROP_COLUMN = scenario(
    "events_drop_note",
    "{op: drop_column, table: events, column: note}",
    "ALTER TABLE events DROP COLUMN note",
    (Side(_write, _sees), Side(_write_green_dropped, _sees)),
)
CHECK = scenario(
    "events_n_check",
    "{op: add_constraint, table: events, name: events_n_positive, type: check, check: n > 0}",
    "ALTER TABLE events ADD CONSTRAINT events_n_positive CHECK (n > 0)",
)
FOREIGN_KEY = scenario(
    "events_user_fk",
    "{op: add_column, table: events, column: {name: user_id, type: bigint, references: {table: users, column: id}}}",
    "ALTER TABLE events ADD COLUMN user_id bigint REFERENCES users (id)",
    tables=(USERS,),
)
FOREIGN_KEY_CONSTRAINT = scenario(
    "events_n_fk",
    "{op: add_constraint, table: events, name: events_n_fk, type: foreign_key, columns: [n], "
    "references: {table: users, columns: [id]}}",
    "ALTER TABLE events ADD CONSTRAINT events_n_fk FOREIGN KEY (n) REFERENCES users (id)",
    tables=(USERS,),
)
DEFAULT = scenario(
    "events_kind_default",
    "{op: alter_column, table: events, column: kind, default: \"'view'\"}",
    "ALTER TABLE events ALTER COLUMN kind SET DEFAULT 'view'",
)


def _write_log(c: psycopg.Connection, n: int) -> None:
    level = ("info", "warn", "error", "debug")[n % 4]
    c.execute("INSERT INTO logs (level, message, n) VALUES (%s, 'w', %s)", (level, FIRST_WRITE + n))


def _sees_logs(c: psycopg.Connection, tags: list[int]) -> None:
    ns = [FIRST_WRITE + t for t in tags]
    assert count(c, "SELECT count(*) FROM logs WHERE n = ANY(%s)", ns) == len(tags)


def _write_tenant(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO tenants (id, name, seats) VALUES (%s, 'w', %s)", (FIRST_WRITE + n, n))


def _sees_tenants(c: psycopg.Connection, tags: list[int]) -> None:
    ids = [FIRST_WRITE + t for t in tags]
    assert count(c, "SELECT count(*) FROM tenants WHERE id = ANY(%s)", ids) == len(tags)


LOGS_NOT_NULL = Scenario(
    tables=(LOGS,),
    migration="name: logs_message\noperations:\n"
    "  - {op: alter_column, table: logs, column: message, nullable: false, up: \"coalesce(message, '')\"}\n",
    plain="ALTER TABLE logs ALTER COLUMN message SET NOT NULL",
    blue=Side(_write_log, _sees_logs),
    green=Side(_write_log, _sees_logs),
)
TENANTS_BIGINT = Scenario(
    tables=(TENANTS,),
    migration="name: tenants_seats\noperations:\n  - {op: alter_column, table: tenants, column: seats, type: bigint}\n",
    plain="ALTER TABLE tenants ALTER COLUMN seats TYPE bigint",
    blue=Side(_write_tenant, _sees_tenants),
    green=Side(_write_tenant, _sees_tenants),
)

SCENARIOS = {
    "alter_type": ALTER_TYPE,
    "indexes_after_backfill": KIND_INDEX_AFTER,
    "add_not_null": ADD_NOT_NULL,
    "set_not_null": SET_NOT_NULL,
    "create_index": CREATE_INDEX,
    "create_unique": CREATE_UNIQUE,
    "drop_index": DROP_INDEX,
    "rename": RENAME,
    "drop_column": DROP_COLUMN,
    "check": CHECK,
    "foreign_key": FOREIGN_KEY,
    "foreign_key_constraint": FOREIGN_KEY_CONSTRAINT,
    "default": DEFAULT,
    "list_keyless": LOGS_NOT_NULL,
    "hash": TENANTS_BIGINT,
}
