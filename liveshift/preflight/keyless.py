"""A table without a key is backfilled by ctid block ranges (backfill/blocks.py): where the server cannot."""

from __future__ import annotations

import psycopg

from liveshift.ddl.steps import qualified

# the first release with the TID Range Scan; before it a ctid range is a sequential scan per batch
MIN_SERVER_VERSION = 140000


def version_refusal(table: str, server_version: int) -> str | None:
    """Why a server of `server_version` (as libpq numbers it, 140000 for 14.0) cannot backfill `table` by blocks."""
    if server_version >= MIN_SERVER_VERSION:
        return None
    return (
        f"table {table!r} has neither a primary key nor a unique NOT NULL key: its rows are backfilled by ctid "
        f"block ranges, which need PostgreSQL 14 or later (the TID Range Scan; this server is "
        f"{server_version // 10000}); add a key first"
    )


def refusal(conn: psycopg.Connection, schema: str, table: str) -> str | None:
    """Why `table` cannot be backfilled by block ranges on this server, or None when it can."""
    too_old = version_refusal(table, conn.info.server_version)
    if too_old is not None:
        return too_old
    row = conn.execute(
        "SELECT c.relkind::text, am.amname FROM pg_class c LEFT JOIN pg_am am ON am.oid = c.relam "
        "WHERE c.oid = to_regclass(%s)",
        (qualified(schema, table).as_string(None),),
    ).fetchone()
    # (a partitioned table's leaf partitions are its targets, plan.BackfillTarget.parent: each a table of its own)
    if row is not None and (row[0] != "r" or row[1] != "heap"):
        kind = f"a table of access method {row[1]!r}"
        return (
            f"table {table!r} has neither a primary key nor a unique NOT NULL key, and is {kind}: its rows cannot "
            "be backfilled by ctid block ranges (a heap table only); add a key first"
        )
    return None
