"""Fleets for tests: many databases on the test server, and a schema with one object of every kind the catalog
fingerprint covers (liveshift/catalog/fingerprint.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from tests.harness.postgres import PostgresServer

# every kind of object the fingerprint reads, in schema {schema}
TENANT_SCHEMA = """
CREATE TABLE {schema}.accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL CHECK (email LIKE '%@%'),
    plan text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_created_idx ON {schema}.accounts (created_at);
CREATE TABLE {schema}.invoices (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES {schema}.accounts (id) ON DELETE CASCADE,
    total numeric(10, 2) NOT NULL DEFAULT 0
);
CREATE VIEW {schema}.paying AS SELECT id, email FROM {schema}.accounts WHERE plan <> 'free';
CREATE FUNCTION {schema}.norm(e text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(e) $$;
CREATE FUNCTION {schema}.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.email := lower(NEW.email);
    RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE INSERT ON {schema}.accounts FOR EACH ROW EXECUTE FUNCTION {schema}.touch();
ALTER TABLE {schema}.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_invoices ON {schema}.invoices USING (account_id > 0);
"""


def create_tenant_schema(conn: psycopg.Connection, schema: str = "public") -> None:
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(TENANT_SCHEMA.format(schema=sql.Identifier(schema).as_string(conn)).encode())


@contextmanager
def many_databases(pg_server: PostgresServer, count: int, stem: str = "tenant") -> Iterator[list[str]]:
    """`count` new databases named <random prefix>_<stem>_NN, in order; dropped afterwards."""
    prefix = f"ft{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}_{stem}_{i:02d}" for i in range(count)]
    try:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield names
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
