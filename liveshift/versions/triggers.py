"""Dual-write triggers: BEFORE INSERT OR UPDATE triggers (one per side) keep both shapes current.

Which side wrote is decided in the writing session, by the triggers' WHEN clauses: the
`liveshift.version` setting when set, else the first schema of the search_path (the function
itself runs with a pinned search_path, so it cannot see the caller's). Green writes run the `down` transforms (new
shape → old columns, in reverse operation order); every other write, blue apps and the
touch-path backfill alike, runs the `up` transforms (old shape → new columns, in operation
order). A direct-path backfill session computes the new columns in its own UPDATE and does not
fire the trigger at all (its WHEN clause).
Each transform sees the row through the shape its operation was written against, so chained
operations (rename, then change the type) compose.

The steps creating and dropping the function and trigger are in statements.py.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from psycopg import sql

from liveshift.shape import user_expression

if TYPE_CHECKING:
    from liveshift.operations.base import Transform

# Marks who last wrote a row: 'p' pending (existed before expand), 'b' blue or backfill, 'g' green.
MARKER = "_ls_written_by"

# `liveshift.version` of the sessions that backfill: the touch path (the trigger computes the new
# columns), and the direct path (the backfill UPDATE computes them itself; the trigger is skipped, by
# its WHEN clause, so no PL/pgSQL call per row). No version schema has either name (those are
# `<schema>_<name>`), so an application session always fires the trigger.
BACKFILL_TOUCH = "backfill"
BACKFILL_DIRECT = "backfill-direct"


def _suffix(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:12]


def function_name(migration: str, table: str) -> str:
    return f"dual_write_{_suffix(migration, table)}"


def trigger_names(migration: str) -> tuple[str, str]:
    """The triggers for blue (and backfill) writes and for green writes."""
    return f"_ls_dual_write_{_suffix(migration)}", f"_ls_dual_write_green_{_suffix(migration)}"


def _transform_block(schema: str, table: str, transform: Transform) -> sql.Composable:
    declarations = sql.SQL(" ").join(
        sql.SQL("{} {}%TYPE := NEW.{};").format(
            sql.Identifier(col.name), sql.Identifier(schema, table, col.physical), sql.Identifier(col.physical)
        )
        for col in transform.variables
    )
    return sql.SQL("DECLARE {} BEGIN NEW.{} := {}; END;").format(
        declarations, sql.Identifier(transform.target), user_expression(transform.expression)
    )


def _assigned(schema: str, table: str, transform: Transform, marker: bool) -> sql.Composable:
    """A volatile expression (volatility.py) assigns its column once, as a default does: on insert, or for an `up`
    when the row is still pending; a later update keeps the value rather than drawing a new one."""
    block = _transform_block(schema, table, transform)
    if not transform.volatile:
        return block
    if not (marker and transform.direction == "up"):
        return sql.SQL("IF TG_OP = 'INSERT' THEN {} END IF;").format(block)
    # OLD exists only for an update: tested in a branch of its own
    return sql.SQL("IF TG_OP = 'INSERT' THEN {b} ELSIF OLD.{m} = 'p' THEN {b} END IF;").format(
        b=block, m=sql.Identifier(MARKER)
    )


def function_body(schema: str, table: str, transforms: list[Transform], marker: bool) -> sql.Composable:
    ups = [t for t in transforms if t.direction == "up"]
    downs = [t for t in reversed(transforms) if t.direction == "down"]
    green_part = [_assigned(schema, table, t, marker) for t in downs]
    blue_part = [_assigned(schema, table, t, marker) for t in ups]
    if marker and ups:
        # a green UPDATE of a row not backfilled yet: its new columns are still empty, so first bring
        # those green did not set up to date from the old ones (then `down` maps them back unchanged)
        refresh = sql.SQL(" ").join(
            sql.SQL("IF NEW.{t} IS NOT DISTINCT FROM OLD.{t} THEN {block} END IF;").format(
                t=sql.Identifier(t.target), block=_transform_block(schema, table, t)
            )
            for t in ups
        )
        green_part.insert(
            0,
            sql.SQL("IF TG_OP = 'UPDATE' THEN IF OLD.{} = 'p' THEN {} END IF; END IF;").format(
                sql.Identifier(MARKER), refresh
            ),
        )
    if marker:
        green_part.append(sql.SQL("NEW.{} := 'g';").format(sql.Identifier(MARKER)))
        blue_part.append(sql.SQL("NEW.{} := 'b';").format(sql.Identifier(MARKER)))
    return sql.SQL("BEGIN IF TG_ARGV[0] = 'green' THEN {green_part} ELSE {blue_part} END IF; RETURN NEW; END;").format(
        green_part=sql.SQL(" ").join(green_part) if green_part else sql.SQL("NULL;"),
        blue_part=sql.SQL(" ").join(blue_part) if blue_part else sql.SQL("NULL;"),
    )
