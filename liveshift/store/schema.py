"""The internal schema `liveshift`: migration records, backfill checkpoints, the active version."""

from __future__ import annotations

import psycopg
from psycopg import sql

from liveshift import INTERNAL_SCHEMA

# One advisory lock key for bootstrap, so two first-time callers do not race on CREATE TABLE.
_BOOTSTRAP_LOCK = 0x6C697665  # "live"

_DDL = """
CREATE SCHEMA IF NOT EXISTS liveshift;
CREATE TABLE IF NOT EXISTS liveshift.migrations (
    name text PRIMARY KEY,
    schema_name text NOT NULL,
    spec jsonb NOT NULL,
    catalog_before jsonb NOT NULL,
    blue_version text NOT NULL,
    green_version text NOT NULL,
    created_blue boolean NOT NULL,
    status text NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- versions chain per schema (blue -> green -> next), so at most one migration is in flight per schema;
-- the index makes two concurrent prepares race safely: one insert wins, the other is refused
CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_in_flight_per_schema ON liveshift.migrations (schema_name)
    WHERE status NOT IN ('complete', 'rolled_back');
CREATE TABLE IF NOT EXISTS liveshift.checkpoints (
    migration text NOT NULL,
    table_name text NOT NULL,
    partition int NOT NULL,
    lower_key jsonb,
    upper_key jsonb,
    last_key jsonb,
    rows_done bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    done boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, table_name, partition)
);
-- raw_sql operations whose `up` ran (committed with it), so a retried expand runs it once
CREATE TABLE IF NOT EXISTS liveshift.raw_sql_runs (
    migration text NOT NULL,
    op_index int NOT NULL,
    PRIMARY KEY (migration, op_index)
);
CREATE TABLE IF NOT EXISTS liveshift.active_versions (
    schema_name text PRIMARY KEY,
    current_version text NOT NULL,
    candidate_version text,
    candidate_percent int NOT NULL DEFAULT 0 CHECK (candidate_percent BETWEEN 0 AND 100),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Which version schema an application should put first in its search_path. With a canary
-- percentage, a stable client key (user id, host name) picks the same version every time.
-- SECURITY DEFINER (docs/privileges.md): application roles get EXECUTE on this one function, not read
-- access to liveshift's tables; the search_path is pinned and every name qualified, so no object of
-- the caller's can stand in for one of ours.
CREATE OR REPLACE FUNCTION liveshift.version_for(p_schema text, p_client text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE
        WHEN v.candidate_version IS NULL OR v.candidate_percent = 0 THEN v.current_version
        WHEN v.candidate_percent = 100 THEN v.candidate_version
        WHEN p_client IS NOT NULL AND pg_catalog.abs(pg_catalog.hashtext(p_client)::bigint) % 100
            < v.candidate_percent
            THEN v.candidate_version
        ELSE v.current_version
    END
    FROM liveshift.active_versions v WHERE v.schema_name = p_schema
$fn$;
-- only the roles liveshift grants it to (the roles that use the migrated tables) may call it
REVOKE ALL ON FUNCTION liveshift.version_for(text, text) FROM PUBLIC;
"""


def bootstrap(conn: psycopg.Connection) -> None:
    """Create the internal schema; idempotent and safe to call concurrently."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_BOOTSTRAP_LOCK,))
        conn.execute(_DDL)


def internal(name: str) -> sql.Identifier:
    return sql.Identifier(INTERNAL_SCHEMA, name)
