"""The partitions of a partitioned table as they are now, read live (the snapshot holds them as prepare saw them).

A partition may be created, attached or detached while a migration runs. Verify reads the leaves again, so it
checks every row the partitioned table holds when it runs, in partitions it did not know of too.
"""

from __future__ import annotations

import psycopg

from liveshift.ddl.steps import qualified

_LEAVES = """
SELECT n.nspname, c.relname
FROM pg_partition_tree(to_regclass(%s)) t
JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.isleaf AND t.level > 0
ORDER BY n.nspname, c.relname
"""


def live_leaves(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    """(schema, name) of the leaf partitions below `table` now, at every level; [] when it has none."""
    return [(s, n) for s, n in conn.execute(_LEAVES, (qualified(schema, table).as_string(None),))]


def is_relation(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified(schema, name).as_string(None),)).fetchone()
    return bool(row and row[0])
