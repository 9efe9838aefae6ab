"""Enum types (issue 22, item 10) through every phase, blue and green writing: create_enum, drop_enum,
add_enum_value, rename_enum_value, remove_enum_value (a type swap) and alter_column between an enum and text."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration, snapshot
from tests.harness.operations.enums import MATRIX, SCENARIOS
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

# PostgreSQL cannot remove a value from an enum type: add_enum_value's rollback leaves it (operations.md)
ROLLBACK_KEEPS = {"add_enum_value"}


@pytest.mark.parametrize("name", list(MATRIX))
def test_every_phase(dsn: str, conn: psycopg.Connection, name: str) -> None:
    every_phase(dsn, conn, MATRIX[name])


@pytest.mark.parametrize("name", [n for n in MATRIX if n not in ROLLBACK_KEEPS])
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, name: str, stop_after: str) -> None:
    rollback_from(dsn, conn, MATRIX[name], stop_after)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_add_enum_value_rollback_keeps_the_value(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    s = SCENARIOS["add_enum_value"]
    with Run(dsn, conn, s) as run:
        run.through(stop_after)
        with open_session(dsn) as c:
            phases.rollback(c, s.m.name)
            phases.rollback(c, s.m.name)
        after = snapshot(conn)
        assert after.pop("enum types") == {"legacy": ["a", "b"], "mood": ["happy", "ok", "meh", "sad"]}
        before = dict(run.before)
        before.pop("enum types")
        assert after == before
        s.blue.sees(conn, run.acked)


@pytest.mark.parametrize("name", list(MATRIX))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, name: str) -> None:
    each_step_twice_equals_once(dsn, conn, MATRIX[name])


def _moods(c: psycopg.Connection, names: list[str]) -> set[str]:
    return {r[0] for r in c.execute("SELECT mood::text FROM people WHERE name = ANY(%s)", (names,))}


def test_remove_enum_value_maps_blue_writes_and_swaps_the_type(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCENARIOS["remove_enum_value"]) as run:
        blue, green = run.blue, run.green
        run.expand()
        blue.execute("INSERT INTO people (name, mood) VALUES ('b-sad', 'sad')")
        assert _moods(green, ["b-sad"]) == {"ok"}  # green's type has no 'sad': blue's write reaches it as 'ok'
        assert _moods(blue, ["b-sad"]) == {"sad"}
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            green.execute("INSERT INTO people (name, mood) VALUES ('g-sad', 'sad')")
        green.execute("INSERT INTO people (name) VALUES ('g-default')")  # the default, on the new type
        assert _moods(blue, ["g-default"]) == {"ok"}
        run.exchange()
        run.through("cutover")
        assert _moods(green, [f"p{g}" for g in range(1, 301)]) == {"happy", "ok"}  # the backfill mapped them
        run.contract()
        assert snapshot(conn)["enum types"]["mood"] == ["happy", "ok"]
        assert conn.execute("SELECT count(*) FROM pg_type WHERE typname LIKE '\\_ls\\_%'").fetchone() == (0,)


def test_rename_enum_value_at_contract(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCENARIOS["rename_enum_value"]) as run:
        run.through("cutover")
        run.green.execute("INSERT INTO people (name, mood) VALUES ('g', 'sad')")  # the old label until contract
        run.contract()
        assert _moods(run.green, ["g"]) == {"down"}


def test_enum_to_text_down_gives_blue_a_value_it_has(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCENARIOS["enum_to_text"]) as run:
        run.expand()
        run.green.execute("INSERT INTO people (name, mood) VALUES ('g', 'angry')")
        assert _moods(run.blue, ["g"]) == {"ok"}
        assert _moods(run.green, ["g"]) == {"angry"}
        run.exchange()
        run.through("cutover")
        run.contract()


REFUSED = {
    "{op: create_enum, name: mood, values: [a]}": "name",
    "{op: create_enum, name: people, values: [a]}": "name",
    "{op: create_enum, name: x, values: [a, a]}": "values[1]",
    "{op: drop_enum, name: mood}": "name",
    "{op: drop_enum, name: nope}": "name",
    "{op: add_enum_value, enum: mood, value: ok}": "value",
    "{op: add_enum_value, enum: mood, value: x, before: nope}": "before",
    "{op: add_enum_value, enum: mood, value: x, before: ok, after: ok}": "after",
    "{op: add_enum_value, enum: nope, value: x}": "enum",
    "{op: rename_enum_value, enum: mood, value: nope, to: x}": "value",
    "{op: rename_enum_value, enum: mood, value: sad, to: ok}": "to",
    "{op: remove_enum_value, enum: mood, value: sad, replacement: ok, columns: [people.mood]}": "columns",
    "{op: remove_enum_value, enum: mood, value: sad, columns: [people.mood, people.later]}": "replacement",
    "{op: remove_enum_value, enum: mood, value: sad, replacement: x, columns: [people.mood, people.later]}": (
        "replacement"
    ),
    "{op: remove_enum_value, enum: mood, value: ok, replacement: happy, columns: [people.mood, people.note]}": (
        "columns[1]"
    ),
}

# a second operation on a type remove_enum_value swaps in the same file: refused, naming that operation
AFTER_A_SWAP = [
    "{op: remove_enum_value, enum: mood, value: sad, replacement: ok, columns: [people.mood, people.later]}",
    "{op: drop_enum, name: mood}",
]


def test_enum_operations_are_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, SCENARIOS["create_enum"].tables)
    with open_session(dsn) as c:
        for op, fld in REFUSED.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: e\noperations:\n  - {op}\n"), file="e.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
        ops = "".join(f"\n  - {op}" for op in AFTER_A_SWAP)
        with pytest.raises(SpecError, match="swapped for a new one") as err:
            preflight.validate(c, migration(f"name: e\noperations:{ops}\n"), file="e.yaml")
        assert (err.value.index, err.value.op) == (1, "drop_enum")


def test_remove_enum_value_refuses_what_the_swap_cannot_carry(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, SCENARIOS["create_enum"].tables)
    op = "{op: remove_enum_value, enum: mood, value: sad, replacement: ok, columns: [people.mood, people.later]}"
    for setup, undo, words in (
        ("ALTER TABLE people ADD CONSTRAINT not_sad CHECK (mood <> 'happy') NOT VALID", "ALTER TABLE people DROP "
         "CONSTRAINT not_sad", "constraint not_sad on table people"),
        ("CREATE TABLE moods (m mood[])", "DROP TABLE moods", "column m of table moods"),
        ("CREATE FUNCTION f(m mood) RETURNS int LANGUAGE sql AS 'SELECT 1'", "DROP FUNCTION f(mood)",
         "function f(mood)"),
    ):  # fmt: skip
        conn.execute(setup)
        with open_session(dsn) as c, pytest.raises(SpecError) as err:
            preflight.validate(c, migration(f"name: e\noperations:\n  - {op}\n"), file="e.yaml")
        assert words in str(err.value), str(err.value)
        conn.execute(undo)
    # with each gone, the same migration is accepted
    with open_session(dsn) as c:
        preflight.validate(c, migration(f"name: e\noperations:\n  - {op}\n"), file="e.yaml")


def test_an_enum_operation_runs_alone(dsn: str, conn: psycopg.Connection) -> None:
    """Another migration in flight on the schema: an enum operation (which any table may use) is refused at plan,
    and the other way round, naming the migration in flight."""
    load_tables(conn, SCENARIOS["create_enum"].tables)
    column = migration(
        "name: nick\noperations:\n  - {op: add_column, table: people, column: {name: nick, type: text}}\n"
    )
    enum = migration("name: meh\noperations:\n  - {op: add_enum_value, enum: mood, value: meh}\n")
    for first, second in ((column, enum), (enum, column)):
        with open_session(dsn) as c:
            phases.prepare(c, first)
            phases.expand(c, first.name)
            with pytest.raises(SpecError, match=f"migration '{first.name}' is in flight .* changes an enum type"):
                preflight.validate(c, second, file="second.yaml")
            phases.rollback(c, first.name)
