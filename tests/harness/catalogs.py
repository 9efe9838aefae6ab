"""Hand-built catalogs and migrations for the planner's unit tests: pure, no database."""

from __future__ import annotations

from liveshift.catalog import Catalog, Column, Index, Table
from liveshift.spec import Migration, parse_migration


def users(primary_key: bool = True, unique_not_null: bool = False) -> Table:
    columns = [Column(name="id", type="bigint", nullable=False), Column(name="email", type="text", nullable=False)]
    indexes = []
    if primary_key:
        indexes.append(Index(name="users_pkey", columns=["id"], unique=True, primary=True))
    if unique_not_null:
        indexes.append(Index(name="users_email_key", columns=["email"], unique=True))
    return Table(name="users", columns=columns, primary_key=["id"] if primary_key else [], indexes=indexes)


def catalog(*tables: Table) -> Catalog:
    return Catalog(schema_name="public", tables={t.name: t for t in tables})


def add_column(table: str, name: str, up: str | None = "lower(email)", **column: object) -> dict:
    op: dict = {"op": "add_column", "table": table, "column": {"name": name, "type": "text", **column}}
    if up is not None:
        op["up"] = up
    return op


def migration(*ops: dict, name: str = "m1") -> Migration:
    return parse_migration({"name": name, "operations": list(ops)}, file="m.yaml")
