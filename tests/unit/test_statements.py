"""The statement catalogue and the shared constraints planner: pure, no database."""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Catalog, Column, Index, Table
from liveshift.ddl import statements
from liveshift.ddl.locks import LABEL_MODES, step_locks
from liveshift.ddl.steps import Step
from liveshift.plan import build_plan
from liveshift.spec import parse_migration


def text(step: Step) -> str:
    return step.statement.as_string(None)


def test_one_foreign_key_builder_for_declared_and_rebuilt_keys() -> None:
    declared = statements.add_foreign_key_not_valid(
        "public", "orders", "orders_user_fkey", ["user_id"], "users", ["id"], statements.on_delete("CASCADE")
    )
    assert text(declared).endswith(
        'ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_user_fkey" FOREIGN KEY ("user_id") '
        'REFERENCES "public"."users" ("id") ON DELETE CASCADE NOT VALID'
    )
    # a key rebuilt from the catalog keeps the options PostgreSQL printed, and may reference another schema
    rebuilt = statements.add_foreign_key_not_valid(
        "public", "orders", "_ls_fk_x", ["_ls_new_user_id"], "users", ["id"], sql.SQL(" DEFERRABLE"), "other"
    )
    assert text(rebuilt).endswith('REFERENCES "other"."users" ("id") DEFERRABLE NOT VALID')
    # both lock two tables: the short lock wait comes first
    assert text(declared).startswith("SELECT set_config('lock_timeout'")
    assert text(rebuilt).startswith("SELECT set_config('lock_timeout'")


def test_one_unique_attach_for_an_index_of_the_same_or_a_temporary_name() -> None:
    same = statements.attach_unique_index("public", "users", "users_email_key")
    assert text(same) == (
        'ALTER TABLE "public"."users" ADD CONSTRAINT "users_email_key" UNIQUE USING INDEX "users_email_key"'
    )
    temp = statements.attach_unique_index("public", "users", "users_email_key", index="_ls_ix_users_email_key")
    assert text(temp).endswith('UNIQUE USING INDEX "_ls_ix_users_email_key"')
    assert same.skip_if is not None and temp.skip_if is not None
    assert same.skip_if.as_string(None) == temp.skip_if.as_string(None)  # done once the constraint exists


def users() -> Catalog:
    columns = [Column(name="id", type="bigint", nullable=False), Column(name="email", type="text", nullable=False)]
    teams = Table(
        name="teams",
        columns=[Column(name="id", type="bigint", nullable=False)],
        primary_key=["id"],
        indexes=[Index(name="teams_pkey", columns=["id"], unique=True, primary=True)],
    )
    users = Table(
        name="users",
        columns=columns,
        primary_key=["id"],
        indexes=[Index(name="users_pkey", columns=["id"], unique=True, primary=True)],
    )
    return Catalog(schema_name="public", tables={"users": users, "teams": teams})


def test_add_column_plans_what_the_column_declares_without_long_locks() -> None:
    op = {
        "op": "add_column",
        "table": "users",
        "column": {
            "name": "team",
            "type": "bigint",
            "default": "0",
            "unique": True,
            "check": "team >= 0",
            "references": {"table": "teams", "column": "id"},
        },
    }
    plan = build_plan(parse_migration({"name": "m1", "operations": [op]}, file="m.yaml"), users(), None)
    (_, _, op_plan) = plan.ops[0]
    assert [s.description for s in op_plan.expand] == [
        "set default of users._ls_new_team",
        "create unique index users_team_key on users (_ls_new_team) concurrently",
        "add foreign key users_team_fkey on users (_ls_new_team) -> teams NOT VALID",
    ]
    assert [s.description for s in op_plan.validate] == ["validate constraint users_team_fkey on users"]
    assert [s.description for s in op_plan.contract] == [
        "attach unique index users_team_key as constraint users_team_key",
        "add check users_team_check NOT VALID",
        "validate constraint users_team_check on users",
    ]
    assert (
        text(op_plan.contract[1])
        == 'ALTER TABLE "public"."users" ADD CONSTRAINT "users_team_check" CHECK (\nteam >= 0\n) NOT VALID'
    )
    assert [c.description for c in op_plan.checks] == ["check users_team_check"]


LABEL_CHECK_OPS = [
    {"op": "add_column", "table": "users", "column": {"name": "team", "type": "bigint", "nullable": False,
                                                      "unique": True, "references": {"table": "teams", "column": "id"}},
     "up": "0"},
    {"op": "alter_column", "table": "users", "column": "email", "type": "varchar(200)"},
    {"op": "rename_column", "table": "users", "column": "email", "to": "mail"},
]  # fmt: skip


def test_every_label_names_the_lock_the_executor_waits_for() -> None:
    """`liveshift plan` prints a step's label; the executor waits for the mode read from its SQL: they agree."""
    for op in LABEL_CHECK_OPS:
        plan = build_plan(parse_migration({"name": "m1", "operations": [op]}, file="m.yaml"), users(), None)
        phases = [plan.expand_steps(), plan.validate_steps(), plan.contract_steps(), plan.rollback_steps()]
        for step in (s for steps in phases for s in steps):
            tables, mode = step_locks(step)
            if tables and step.lock in LABEL_MODES:
                assert LABEL_MODES[step.lock] == mode, (op["op"], step.description, step.lock, mode)
