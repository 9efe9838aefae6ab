"""workflow_id: derived from the target, the schema and the tables; the same input gives the same id."""

from __future__ import annotations

from liveshift.spec import parse_migration
from liveshift.workflows.models import workflow_id


def migration(name: str, tables: list[str], schema: str = "public"):
    ops = [{"op": "add_column", "table": t, "column": {"name": f"c{i}", "type": "text"}} for i, t in enumerate(tables)]
    return parse_migration({"name": name, "schema": schema, "operations": ops})


def test_same_input_same_id() -> None:
    a = workflow_id("prod", migration("m1", ["users"]))
    assert a == workflow_id("prod", migration("m1", ["users"]))
    assert a.startswith("liveshift/prod/public.users/")


def test_id_depends_on_tables_not_on_migration_name_or_order() -> None:
    # a second migration of the same tables gets the same id, so Temporal refuses to start it twice
    assert workflow_id("prod", migration("m1", ["users"])) == workflow_id("prod", migration("other", ["users"]))
    assert workflow_id("prod", migration("m1", ["users", "orders"])) == workflow_id(
        "prod", migration("m1", ["orders", "users"])
    )
    assert workflow_id("prod", migration("m1", ["users", "users"])) == workflow_id("prod", migration("m1", ["users"]))


def test_id_differs_by_target_schema_and_tables() -> None:
    base = workflow_id("prod", migration("m1", ["users"]))
    assert workflow_id("staging", migration("m1", ["users"])) != base
    assert workflow_id("prod", migration("m1", ["users"], schema="app")) != base
    assert workflow_id("prod", migration("m1", ["orders"])) != base


def test_hostile_table_names_stay_printable_and_distinct() -> None:
    odd = workflow_id("prod", migration("m1", ['a "b" c']))
    other = workflow_id("prod", migration("m1", ["a_b_c"]))
    assert odd != other  # the readable part collides; the digest keeps them apart
    readable = odd.split("/")[2]
    assert readable == "public.a__b__c"
    assert all(ch.isalnum() or ch in "_.,-/" for ch in odd)
