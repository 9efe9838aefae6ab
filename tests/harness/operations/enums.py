"""The scenarios of the enum operations (tests/integration/test_op_enums.py): create_enum, drop_enum,
add_enum_value, rename_enum_value, remove_enum_value, and alter_column between an enum and text."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tests.harness.scenario import Scenario, Side, Table, count

MOODS = ("happy", "ok", "sad")

TABLES = (
    Table(
        "people",
        "id bigserial PRIMARY KEY, name text NOT NULL, mood mood NOT NULL DEFAULT 'ok', later mood, note text",
        rows=300,
        values={"name": "'p' || g", "mood": "(ARRAY['happy', 'ok', 'sad'])[g % 3 + 1]::mood", "note": "'n' || g"},
        first=(
            "CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad')",
            "CREATE TYPE legacy AS ENUM ('a', 'b')",
        ),
        then=("CREATE INDEX people_mood_idx ON people (mood)",),
    ),
)


def _write(mood: str, column: str = "mood", **more: str) -> Side:
    """Writes a person of `mood` into `column` (and the values of `more` into theirs); sees every acknowledged one
    by name."""
    values = {column: mood, **more}

    def write(c: psycopg.Connection, n: int) -> None:
        names = sql.SQL(", ").join(sql.Identifier(k) for k in ("name", *values))
        c.execute(
            sql.SQL("INSERT INTO people ({}) VALUES (%s, {})").format(
                names, sql.SQL(", ").join(sql.Placeholder() * len(values))
            ),
            (f"w{n}", *values.values()),
        )

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        assert count(c, "SELECT count(*) FROM people WHERE name = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)

    return Side(write, sees)


def scenario(name: str, ops: str, plain: str, blue: Side, green: Side) -> Scenario:
    return Scenario(tables=TABLES, migration=f"name: {name}\noperations:\n{ops}", plain=plain, blue=blue, green=green)


CREATE = scenario(
    "create_priority",
    "  - {op: create_enum, name: priority, values: [low, high]}\n"
    "  - {op: add_column, table: people, column: {name: priority, type: priority}}\n",
    "CREATE TYPE priority AS ENUM ('low', 'high'); ALTER TABLE people ADD COLUMN priority priority",
    _write("happy"),
    _write("high", "priority"),
)
DROP = scenario(
    "drop_legacy",
    "  - {op: drop_enum, name: legacy}\n",
    "DROP TYPE legacy",
    _write("happy"),
    _write("sad"),
)
ADD_VALUE = scenario(
    "add_meh",
    "  - {op: add_enum_value, enum: mood, value: meh, after: ok}\n",
    "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'",
    _write("happy"),
    _write("meh"),  # blue shares the type: it reads the new value too
)
RENAME_VALUE = scenario(
    "rename_sad",
    "  - {op: rename_enum_value, enum: mood, value: sad, to: down}\n",
    "ALTER TYPE mood RENAME VALUE 'sad' TO 'down'",
    _write("sad"),
    _write("happy"),
)
_NEW_MOOD = "CAST(CASE CAST({c} AS text) WHEN 'sad' THEN 'ok' ELSE CAST({c} AS text) END AS mood_new)"
REMOVE_VALUE = scenario(
    "remove_sad",
    "  - {op: remove_enum_value, enum: mood, value: sad, replacement: ok, columns: [people.mood, people.later]}\n",
    "CREATE TYPE mood_new AS ENUM ('happy', 'ok'); "
    "ALTER TABLE people ALTER COLUMN mood DROP DEFAULT, "
    f"ALTER COLUMN mood TYPE mood_new USING {_NEW_MOOD.format(c='mood')}, ALTER COLUMN mood SET DEFAULT 'ok', "
    f"ALTER COLUMN later TYPE mood_new USING {_NEW_MOOD.format(c='later')}; "
    "DROP TYPE mood; ALTER TYPE mood_new RENAME TO mood",
    _write("sad"),  # blue still writes the removed value: green reads it as 'ok'
    _write("happy"),
)
TO_TEXT = scenario(
    "mood_as_text",
    "  - op: alter_column\n    table: people\n    column: mood\n    type: text\n    default: \"'ok'\"\n"
    "    down: \"CASE WHEN mood IN ('happy', 'ok', 'sad') THEN CAST(mood AS mood) ELSE 'ok' END\"\n",
    "ALTER TABLE people ALTER COLUMN mood DROP DEFAULT, ALTER COLUMN mood TYPE text, "
    "ALTER COLUMN mood SET DEFAULT 'ok'",
    _write("sad"),
    _write("angry"),  # no value of blue's enum: `down` gives blue 'ok'
)
FROM_TEXT = scenario(
    "note_as_mood",
    "  - op: alter_column\n    table: people\n    column: note\n    type: mood\n"
    "    up: \"CASE WHEN note IN ('happy', 'ok', 'sad') THEN CAST(note AS mood) END\"\n",
    "ALTER TABLE people ALTER COLUMN note TYPE mood "
    "USING CASE WHEN note IN ('happy', 'ok', 'sad') THEN CAST(note AS mood) END",
    _write("happy", "note"),
    _write("ok", "note"),
)

SCENARIOS = {
    "create_enum": CREATE,
    "drop_enum": DROP,
    "add_enum_value": ADD_VALUE,
    "rename_enum_value": RENAME_VALUE,
    "remove_enum_value": REMOVE_VALUE,
    "enum_to_text": TO_TEXT,
    "text_to_enum": FROM_TEXT,
}


# what the phase matrix runs: the catalog-only operations and the changes between an enum and text in one
# migration (the plain statements in an order PostgreSQL accepts: the cast of 'sad' before its rename), the type
# swap alone (it swaps every column of the type) and add_enum_value alone (its rollback keeps the value)
MATRIX = {
    "catalog_and_text": scenario(
        "enum_catalog_text",
        "".join(s.migration.split("operations:\n", 1)[1] for s in (CREATE, DROP, RENAME_VALUE, TO_TEXT, FROM_TEXT)),
        "; ".join(s.plain for s in (TO_TEXT, FROM_TEXT, CREATE, DROP, RENAME_VALUE)),
        _write("sad", note="x"),
        _write("angry", note="ok", priority="high"),
    ),
    "remove_enum_value": REMOVE_VALUE,
    "add_enum_value": ADD_VALUE,
}
