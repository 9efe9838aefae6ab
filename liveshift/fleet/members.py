"""A fleet's members: which databases, or schemas, one migration rolls across.

A selector names them in one of three ways: a list of configured targets, an fnmatch pattern over the configured
target names, or a read-only SQL query on one target that returns database names (database per tenant) or schema
names (schema per tenant). `schemas` turns each listed or matched target into one member per schema. `resolve`
turns a selector into members with stable, unique keys, sorted by key; every refusal is a SpecError naming the
field, and a query runs in a READ ONLY transaction, so resolving never writes.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import re
from collections.abc import Callable
from typing import Literal

import psycopg
from psycopg import conninfo, sql
from pydantic import BaseModel, Field, model_validator

from liveshift.connections import open_session
from liveshift.errors import SpecError

# a member query names members, it does not compute them: a slow one is a mistake, refused within seconds
QUERY_TIMEOUT_MS = 30_000
# the column types a member query may return: names are text
_TEXT_TYPES = {"text", "varchar", "name", "bpchar"}
# a key part kept as it is; anything else is replaced, with a hash so that two names never share a key
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class MemberQuery(BaseModel):
    """A query on `target` whose one text column lists the members: database names or schema names."""

    target: str = Field(min_length=1, description="the configured target the query runs on")
    sql: str = Field(min_length=1, description="a read-only query returning one text column, one member per row")
    kind: Literal["database", "schema"] = Field(
        default="database", description="database: each row a database on the target's server; schema: a schema"
    )


class MemberSelector(BaseModel):
    """Exactly one of `targets`, `pattern` or `query`; `schemas` with `targets` or `pattern`."""

    targets: list[str] = Field(default_factory=list, description="configured target names")
    pattern: str | None = Field(default=None, description="fnmatch pattern over the configured target names")
    query: MemberQuery | None = None
    schemas: list[str] = Field(default_factory=list, description="one member per schema of each target")

    @model_validator(mode="after")
    def _one_source(self) -> MemberSelector:
        given = [name for name in ("targets", "pattern", "query") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(f"name the members with exactly one of targets, pattern or query (got {given or 'none'})")
        if self.query is not None and self.schemas:
            raise ValueError("schemas go with targets or pattern; a query of kind 'schema' lists schemas itself")
        return self


class Member(BaseModel):
    """One database (or one schema in it) of a fleet."""

    key: str = Field(min_length=1, description="unique and stable: shard1, tenants/db_042, app/tenant_7")
    target: str = Field(min_length=1, description="the configured target it is reached through")
    database: str | None = Field(default=None, description="the database name instead of the target's own")
    schema_name: str | None = Field(default=None, description="the schema, for schema per tenant")


def key_part(name: str) -> str:
    """`name` as a key part: itself when plain, else a readable form with a hash of the original (so `a b` and
    `a/b` do not collide)."""
    if _SAFE.match(name):
        return name
    readable = _UNSAFE_CHARS.sub("_", name)[:40].strip("_") or "x"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def member_dsn(base_dsn: str, member: Member) -> str:
    """The member's connection string: the target's, with the member's database when it names one."""
    return base_dsn if member.database is None else conninfo.make_conninfo(base_dsn, dbname=member.database)


def resolve(
    conn_for: Callable[[str], psycopg.Connection], targets: list[str], selector: MemberSelector
) -> list[Member]:
    """The selector's members, sorted by key. `targets` are the configured target names; `conn_for` opens a
    connection to one of them (called only for a query)."""
    if selector.query is not None:
        members = _from_query(conn_for, targets, selector.query)
    else:
        names = selector.targets if selector.targets else _matching(targets, selector.pattern or "")
        _known(targets, names)
        members = _per_schema(names, selector.schemas)
    return _unique_sorted(members)


def _matching(targets: list[str], pattern: str) -> list[str]:
    names = sorted(t for t in targets if fnmatch.fnmatchcase(t, pattern))
    if not names:
        known = ", ".join(sorted(targets)) or "none"
        raise SpecError(f"pattern {pattern!r} matches no configured target (configured: {known})", field="pattern")
    return names


def _known(targets: list[str], names: list[str]) -> None:
    unknown = [n for n in names if n not in targets]
    if unknown:
        known = ", ".join(sorted(targets)) or "none"
        raise SpecError(f"unknown target {unknown[0]!r}: configured are {known}", field="targets")


def _per_schema(names: list[str], schemas: list[str]) -> list[Member]:
    if not schemas:
        return [Member(key=key_part(n), target=n) for n in names]
    return [Member(key=f"{key_part(n)}/{key_part(s)}", target=n, schema_name=s) for n in names for s in schemas]


def _from_query(conn_for: Callable[[str], psycopg.Connection], targets: list[str], query: MemberQuery) -> list[Member]:
    _known(targets, [query.target])
    names = _query_names(conn_for(query.target), query)
    prefix = key_part(query.target)
    if query.kind == "schema":
        return [Member(key=f"{prefix}/{key_part(n)}", target=query.target, schema_name=n) for n in names]
    return [Member(key=f"{prefix}/{key_part(n)}", target=query.target, database=n) for n in names]


def _query_names(conn: psycopg.Connection, query: MemberQuery) -> list[str]:
    """The query's rows, read in a READ ONLY transaction that is rolled back: a query that writes is refused."""
    where = f"query on target {query.target!r}"
    try:
        with conn.transaction(force_rollback=True), conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(QUERY_TIMEOUT_MS))
            cur.execute(query.sql.encode())  # as written: bytes, so no placeholder is read into it
            if cur.description is None or len(cur.description) != 1:
                raise SpecError(f"{where} must return exactly one column of names", field="query.sql")
            column = cur.description[0]
            rows = cur.fetchall()
    except psycopg.errors.QueryCanceled:
        raise SpecError(f"{where} ran over {QUERY_TIMEOUT_MS / 1000:g} s", field="query.sql") from None
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        raise SpecError(f"{where} is not a read: {exc.diag.message_primary}", field="query.sql") from None
    except psycopg.Error as exc:
        raise SpecError(f"{where} failed: {exc.diag.message_primary or exc}", field="query.sql") from None
    type_name = _type_name(conn, column.type_code)
    if type_name not in _TEXT_TYPES:
        raise SpecError(f"{where} returns a column of type {type_name}, not text", field="query.sql")
    if not rows:
        raise SpecError(f"{where} returned no rows: the fleet would have no members", field="query.sql")
    if any(r[0] is None or r[0] == "" for r in rows):
        raise SpecError(f"{where} returned an empty or NULL name", field="query.sql")
    return [r[0] for r in rows]


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    row = conn.execute("SELECT typname FROM pg_catalog.pg_type WHERE oid = %s", (oid,)).fetchone()
    return row[0] if row else str(oid)


def _unique_sorted(members: list[Member]) -> list[Member]:
    seen: dict[str, Member] = {}
    for m in members:
        if m.key in seen:
            raise SpecError(f"two members have the key {m.key!r}: name each target or schema once", field="members")
        seen[m.key] = m
    if not seen:
        raise SpecError("the selection has no members", field="members")
    return [seen[k] for k in sorted(seen)]


def resolve_targets(dsn_for: Callable[[str], str], targets: list[str], selector: MemberSelector) -> list[Member]:
    """`resolve` with a session of its own to each target it queries (closed before it returns), for the worker:
    `dsn_for` is its target resolver."""
    with contextlib.ExitStack() as sessions:
        return resolve(lambda t: sessions.enter_context(open_session(dsn_for(t))), targets, selector)
