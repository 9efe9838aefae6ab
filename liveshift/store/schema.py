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
-- the catalog fingerprint of the schema when the migration completed (catalog/fingerprint.py), compared by
-- `liveshift fleet drift`; added to installs from before it without taking the table's lock when it exists
DO $upgrade$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = 'liveshift.migrations'::regclass
                   AND attname = 'fingerprint' AND NOT attisdropped) THEN
        ALTER TABLE liveshift.migrations ADD COLUMN fingerprint jsonb;
    END IF;
END $upgrade$;
-- Installs made before several migrations could be in flight on one schema (versions/compose.py) refused a
-- second one with this index; prepare now checks that they are disjoint under an advisory lock.
DROP INDEX IF EXISTS liveshift.migrations_one_in_flight_per_schema;
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
-- the tables a contracting migration has shown in their final shape in the other in-flight greens
-- (statements.mirror_views_step), each once, in the transaction that did it
CREATE TABLE IF NOT EXISTS liveshift.view_handovers (
    migration text NOT NULL,
    table_name text NOT NULL,
    PRIMARY KEY (migration, table_name)
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
-- Route the current transaction, and only it, to a version: the one the flag gives `p_client`, or `p_version`
-- when the caller holds one (a pinned application, a request that keeps its version). Both settings are local
-- (set_config(..., true)), so nothing outlives the transaction: it holds under a transaction pooler (PgBouncer
-- pool_mode=transaction) where session state leaks between clients. search_path is the version schema and
-- pg_catalog; `liveshift.version` tells the dual-write trigger's WHEN clause the side. SECURITY INVOKER and
-- no SET clause on purpose: a function's SET clause would restore search_path when it returns; every name is
-- qualified. Errors carry SQLSTATEs of their own for liveshift.client: LS001 no version, LS002 the version
-- schema does not exist, LS003 no USAGE on it.
CREATE OR REPLACE FUNCTION liveshift.use_version(p_schema text, p_client text DEFAULT NULL, p_version text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v text := coalesce(p_version, liveshift.version_for(p_schema, p_client));
    ns oid;
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION 'liveshift has no version for schema %', pg_catalog.quote_literal(p_schema)
            USING ERRCODE = 'LS001';
    END IF;
    SELECT n.oid INTO ns FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) v;
    IF ns IS NULL THEN
        RAISE EXCEPTION 'version % of schema % does not exist', pg_catalog.quote_literal(v),
            pg_catalog.quote_literal(p_schema) USING ERRCODE = 'LS002';
    END IF;
    IF NOT pg_catalog.has_schema_privilege(ns, 'USAGE') THEN
        RAISE EXCEPTION 'role % lacks USAGE on schema %', pg_catalog.quote_literal(current_user::text),
            pg_catalog.quote_literal(v) USING ERRCODE = 'LS003';
    END IF;
    PERFORM pg_catalog.set_config('search_path',
        pg_catalog.quote_ident(v) OPERATOR(pg_catalog.||) ', pg_catalog', true);
    PERFORM pg_catalog.set_config('liveshift.version', v, true);
    RETURN v;
END
$fn$;
"""


def bootstrap(conn: psycopg.Connection) -> None:
    """Create the internal schema; idempotent and safe to call concurrently."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_BOOTSTRAP_LOCK,))
        conn.execute(_DDL)


def internal(name: str) -> sql.Identifier:
    return sql.Identifier(INTERNAL_SCHEMA, name)
