"""What a migration changes and reaches (versions/compose.py): the rule that lets migrations of disjoint tables be
in flight together on one schema. Pure: hand-built catalogs."""

from __future__ import annotations

from liveshift.catalog import Column, Constraint, IncomingForeignKey, Table
from liveshift.plan import build_plan
from liveshift.store.record import MigrationRecord
from liveshift.versions.compose import current_shape, reached_tables
from tests.harness.catalogs import add_column, catalog, migration, users, view


def orders(fk: bool = False) -> Table:
    columns = [Column(name="id", type="bigint", nullable=False), Column(name="user_id", type="bigint")]
    constraints = []
    if fk:
        constraints.append(
            Constraint(
                name="orders_user_id_fkey",
                kind="foreign_key",
                definition="FOREIGN KEY (user_id) REFERENCES users(id)",
                columns=["user_id"],
                ref_schema="public",
                ref_table="users",
                ref_columns=["id"],
            )
        )
    return Table(name="orders", columns=columns, primary_key=["id"], constraints=constraints)


def test_changed_tables_are_those_named_created_renamed_or_filled() -> None:
    m = migration(
        add_column("users", "email_lower"),
        {"op": "rename_table", "table": "orders", "to": "purchases"},
        {"op": "create_table", "table": "audit", "columns": [{"name": "id", "type": "bigint"}]},
    )
    plan = build_plan(m, catalog(users(), orders()), None)
    assert plan.changed_tables() == {"users", "orders", "purchases", "audit"}
    # an untouched table is neither changed nor reached
    other = build_plan(migration(add_column("users", "x")), catalog(users(), orders()), None)
    assert "orders" not in reached_tables(other)


def test_a_foreign_key_or_an_object_over_both_tables_reaches_the_other() -> None:
    referencing = orders(fk=True)
    referenced = users().model_copy(
        update={
            "referenced_by": [
                IncomingForeignKey(
                    schema_name="public",
                    table="orders",
                    name="orders_user_id_fkey",
                    columns=["user_id"],
                    ref_columns=["id"],
                    definition="FOREIGN KEY (user_id) REFERENCES users(id)",
                )
            ]
        }
    )
    plan = build_plan(migration(add_column("users", "x")), catalog(referenced, referencing), None)
    assert reached_tables(plan) == {"users", "orders"}
    both = view("user_orders", "users", "id")
    both.reads += view("ignored", "orders", "id").reads
    plan = build_plan(migration(add_column("users", "x")), catalog(users(), orders()), None)
    with_view = plan.physical.model_copy(update={"dependents": [both]})
    plan = build_plan(migration(add_column("users", "x")), with_view, None)
    assert reached_tables(plan) == {"users", "orders"}


def test_current_shape_shows_other_migrations_tables_as_before_their_expand() -> None:
    before = catalog(users(), orders())
    m = migration(
        add_column("users", "email_lower"),
        {"op": "create_table", "table": "audit", "columns": [{"name": "id", "type": "bigint"}]},
    )
    record = MigrationRecord(
        name="m1",
        schema_name="public",
        spec=m.model_dump(mode="json", by_alias=True),
        catalog_before=before,
        blue_version="public_base",
        green_version="public_m1",
        created_blue=True,
        status="expanded",  # type: ignore[arg-type]
    )
    hidden = users().model_copy(update={"columns": [*users().columns, Column(name="_ls_new_email_lower", type="text")]})
    audit = Table(name="audit", columns=[Column(name="id", type="bigint")])
    live = catalog(hidden, orders(), audit)
    assert current_shape(live, [record]).tables == before.tables
