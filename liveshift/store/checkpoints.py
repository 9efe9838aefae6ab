"""The backfill's checkpoints in `liveshift.checkpoints`: one row per partition, moved in each batch's transaction."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel


class Partition(BaseModel):
    index: int
    lower: list[Any] | None = None  # exclusive
    upper: list[Any] | None = None  # inclusive


def init_checkpoints(conn: psycopg.Connection, migration: str, table: str, partitions: list[Partition]) -> None:
    """Record partitions once; a second call (a retried activity) keeps the progress already made."""
    with conn.transaction():
        for p in partitions:
            conn.execute(
                "INSERT INTO liveshift.checkpoints (migration, table_name, partition, lower_key, upper_key, last_key) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (migration, table, p.index, Jsonb(p.lower), Jsonb(p.upper), Jsonb(p.lower)),
            )


def load_partitions(conn: psycopg.Connection, migration: str, table: str) -> list[Partition]:
    return [
        Partition(index=i, lower=lo, upper=hi)
        for i, lo, hi in conn.execute(
            "SELECT partition, lower_key, upper_key FROM liveshift.checkpoints "
            "WHERE migration = %s AND table_name = %s ORDER BY partition",
            (migration, table),
        )
    ]


def read(conn: psycopg.Connection, migration: str, table: str, partition: int) -> tuple[Any, Any, int, int, bool]:
    """(last_key, upper_key, rows_done, batches, done) of one partition."""
    row = conn.execute(
        "SELECT last_key, upper_key, rows_done, batches, done FROM liveshift.checkpoints "
        "WHERE migration = %s AND table_name = %s AND partition = %s",
        (migration, table, partition),
    ).fetchone()
    if row is None:
        raise LookupError(f"no checkpoint for {migration}/{table}/{partition}: call init_checkpoints first")
    return row


def advance(
    conn: psycopg.Connection,
    migration: str,
    table: str,
    partition: int,
    last_key: list[Any] | None,
    seen: int,
    finished: bool,
) -> None:
    """Move a partition's checkpoint past a batch, in the batch's transaction (only its walk writes it)."""
    conn.execute(
        "UPDATE liveshift.checkpoints SET last_key = %s, rows_done = rows_done + %s, batches = batches + 1,"
        " done = %s, updated_at = now() WHERE migration = %s AND table_name = %s AND partition = %s",
        (Jsonb(last_key), seen, finished, migration, table, partition),
    )


def clear(conn: psycopg.Connection, migration: str) -> None:
    """A migration's checkpoints, once it completed or rolled back."""
    conn.execute("DELETE FROM liveshift.checkpoints WHERE migration = %s", (migration,))
