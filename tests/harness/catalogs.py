"""Hand-built catalogs and migrations for the planner's unit tests: pure, no database."""

from __future__ import annotations

from liveshift.catalog import Catalog, Column, Index, Table
from liveshift.dependents import Dependent, Grant, Reads
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


# objects that read a table (dependents): a view and a function with an SQL-standard body over users.score


def reads(relation: str, *columns: str | None, row_type: bool = False) -> list[Reads]:
    return [Reads(schema_name="public", relation=relation, column=c, row_type=row_type) for c in columns]


def view(name: str, relation: str = "users", *columns: str, kind: str = "view") -> Dependent:
    label = "materialized view" if kind == "materialized_view" else "view"
    return Dependent(
        kind=kind,  # type: ignore[arg-type]
        key=f"{label} public.{name}",
        identity=f"public.{name}",
        schema_name="public",
        name=name,
        reads=reads(relation, *(columns or ("id", "score"))),
        owner="app_owner",
        definition=f" SELECT id, score FROM public.{relation};",
        grants=[Grant(grantee="reader", grantor="app_owner", privilege="SELECT")],
    )


def function(name: str = "score_of", *columns: str) -> Dependent:
    return Dependent(
        kind="function",
        key=f"function public.{name}(bigint)",
        identity=f"public.{name}(bigint)",
        schema_name="public",
        name=name,
        reads=reads("users", *(columns or ("id", "score"))),
        owner="app_owner",
        definition=f"CREATE OR REPLACE FUNCTION public.{name}(p bigint)\n RETURNS integer\n LANGUAGE sql\n"
        "BEGIN ATOMIC\n SELECT users.score FROM public.users WHERE (users.id = score_of.p);\nEND\n",
        arguments="p bigint",
        result="integer",
    )
