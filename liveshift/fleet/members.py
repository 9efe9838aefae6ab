"""A fleet's members: which databases (or schemas) one migration rolls across, named from the worker's targets.

A member is a configured target, a database on a target's server (database per tenant: the target's DSN with
another dbname), or a schema in a target's database (schema per tenant). `resolve` turns a selector into members
on the worker (only the worker holds DSNs); `member_dsn` is a member's connection string.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, Field

from liveshift.errors import SpecError


class Member(BaseModel):
    key: str = Field(min_length=1, description="unique and stable: shard1, tenants/db_042, app/tenant_7")
    target: str = Field(min_length=1, description="a configured target name")
    database: str | None = Field(None, description="dbname override (database per tenant)")
    schema_name: str | None = Field(None, description="the schema to migrate (schema per tenant)")


class MemberQuery(BaseModel):
    target: str = Field(min_length=1, description="where the query runs")
    sql: str = Field(min_length=1, description="returns one column: database names, or schema names")
    kind: Literal["database", "schema"] = "database"


class MemberSelector(BaseModel):
    targets: list[str] = Field(default_factory=list, description="configured target names")
    pattern: str | None = Field(None, description="fnmatch pattern over the configured target names")
    query: MemberQuery | None = None
    schemas: list[str] = Field(default_factory=list, description="with targets or pattern: these schemas of each")


def _named(targets: list[str], selector: MemberSelector) -> list[str]:
    named = list(selector.targets)
    unknown = [t for t in named if t not in targets]
    if unknown:
        raise SpecError(f"unknown targets {', '.join(unknown)}: this worker knows {', '.join(targets) or 'none'}")
    if selector.pattern is not None:
        named += [t for t in sorted(targets) if fnmatch.fnmatchcase(t, selector.pattern) and t not in named]
    return named


def _queried(conn_for: Callable[[str], psycopg.Connection], query: MemberQuery) -> list[Member]:
    with conn_for(query.target) as conn:
        rows = conn.execute(sql.SQL(query.sql)).fetchall()  # type: ignore[arg-type]  # the operator's SQL
    names = sorted({str(row[0]) for row in rows})
    if query.kind == "database":
        return [Member(key=f"{query.target}/{n}", target=query.target, database=n) for n in names]
    return [Member(key=f"{query.target}/{n}", target=query.target, schema_name=n) for n in names]


def resolve(
    conn_for: Callable[[str], psycopg.Connection], targets: list[str], selector: MemberSelector
) -> list[Member]:
    """The selector's members, in a stable order (the order waves take them in); none is a SpecError."""
    members: list[Member] = []
    for target in _named(targets, selector):
        if selector.schemas:
            members += [Member(key=f"{target}/{s}", target=target, schema_name=s) for s in selector.schemas]
        else:
            members.append(Member(key=target, target=target))
    if selector.query is not None:
        members += _queried(conn_for, selector.query)
    keys = [m.key for m in members]
    if not members:
        raise SpecError("the selector names no member", field="members")
    if len(set(keys)) != len(keys):
        raise SpecError(f"members named twice: {sorted({k for k in keys if keys.count(k) > 1})}", field="members")
    return members


def member_dsn(base_dsn: str, member: Member) -> str:
    """The member's connection string: its target's, with its own database if it has one."""
    return make_conninfo(base_dsn, dbname=member.database) if member.database else base_dsn
