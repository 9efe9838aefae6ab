"""Dependents (issue 20) without a database: their value types, what the plan decides for each, and the one
contract transaction that carries them; `liveshift convert` of DROP COLUMN … CASCADE."""

from __future__ import annotations

import pytest
import yaml

from liveshift.catalog import Catalog, Column, Index, Table
from liveshift.ddl.steps import Step
from liveshift.dependents import Dependent, Grant
from liveshift.errors import SpecError
from liveshift.plan import MigrationPlan, build_plan
from liveshift.spec import parse_migration
from liveshift.sqlconvert.convert import convert_statements
from liveshift.sqlconvert.statements import split_sql
from tests.harness.catalogs import function, reads, view


def users() -> Table:
    return Table(
        name="users",
        columns=[
            Column(name="id", type="bigint", nullable=False),
            Column(name="score", type="integer"),
            Column(name="legacy", type="text"),
        ],
        primary_key=["id"],
        indexes=[Index(name="users_pkey", columns=["id"], unique=True, primary=True)],
    )


def plan_of(*ops: dict, dependents: list[Dependent]) -> MigrationPlan:
    catalog = Catalog(schema_name="public", tables={"users": users()}, dependents=dependents)
    return build_plan(parse_migration({"name": "m1", "operations": list(ops)}, file="m.yaml"), catalog, None)


SCORE_BIGINT = {"op": "alter_column", "table": "users", "column": "score", "type": "bigint"}


def fates(plan: MigrationPlan) -> dict[str, str]:
    return {c.dependent.key: c.action for c in plan.carried}


def group(plan: MigrationPlan) -> Step:
    groups = [s for s in plan.contract_steps() if "with what reads them" in s.description]
    assert len(groups) == 1
    return groups[0]


def parts(step: Step) -> list[str]:
    return [p.description for p in step.parts]


# value types


def test_a_catalog_snapshot_keeps_its_dependents_through_json() -> None:
    catalog = Catalog(schema_name="public", tables={"users": users()}, dependents=[view("v"), function()])
    stored = catalog.model_dump_json()
    assert Catalog.model_validate_json(stored) == catalog
    # a snapshot stored before dependents were read has none
    assert Catalog.model_validate({"schema_name": "public"}).dependents == []


def test_dependent_value_type() -> None:
    v = view("v")
    assert v.relation == ("public", "v") and function().relation is None
    assert v.reads_relation("public", "users") and not v.reads_relation("public", "v")
    with pytest.raises(ValueError, match="kind"):
        Dependent.model_validate({**v.model_dump(), "kind": "index"})


# what the plan decides


def test_a_view_on_a_replaced_column_and_a_view_on_it_are_rebuilt_in_one_transaction() -> None:
    plan = plan_of(SCORE_BIGINT, dependents=[view("v"), view("v2", "v"), function()])
    assert fates(plan) == {
        "view public.v": "rebuilt",
        "view public.v2": "rebuilt",
        "function public.score_of(bigint)": "rebound",
    }
    step = group(plan)
    assert parts(step) == [
        "short lock waits (several relations)",  # the views and the table: give up before deadlock_timeout
        "take off view public.v2",  # deepest first
        "take off view public.v",
        "keep function public.score_of(bigint) with an empty body meanwhile",
        "drop column users.score",
        "rename column users._ls_new_score to score",
        "build function public.score_of(bigint) again over the new shape",
        "build view public.v again over the new shape",
        "build view public.v2 again over the new shape",  # over the view it reads
    ]
    assert ("public", "v") in step.lock.tables and ("public", "users") in step.lock.tables
    statement = step.statement.as_string(None)
    assert 'ALTER VIEW "public"."v" OWNER TO "app_owner"' in statement
    assert 'GRANT SELECT ON "public"."v" TO "reader"' in statement
    # nothing of the kind in any other phase: rollback and expand leave them alone
    for phase in (plan.expand_steps(), plan.rollback_steps()):
        assert not any("public.v" in s.description for s in phase)


def test_the_group_is_skipped_once_the_column_is_swapped() -> None:
    guard = group(plan_of(SCORE_BIGINT, dependents=[view("v")])).skip_if
    assert guard is not None
    text = guard.as_string(None)
    assert "'score'" in text and "'_ls_new_score'" in text


def test_type_change_and_rename_rebuild_under_the_old_name_then_rename() -> None:
    op = {**SCORE_BIGINT, "name": "points"}
    step = group(plan_of(op, dependents=[view("v")]))
    assert parts(step)[1:] == [
        "take off view public.v",
        "drop column users.score",
        "rename column users._ls_new_points to score",
        "build view public.v again over the new shape",
        "rename column users.score to points",
    ]


def test_a_renamed_column_keeps_its_dependents() -> None:
    plan = plan_of({"op": "rename_column", "table": "users", "column": "score", "to": "points"}, dependents=[view("v")])
    assert fates(plan) == {"view public.v": "follows_rename"}
    assert not any("with what reads them" in s.description for s in plan.contract_steps())


def test_unrelated_dependents_are_not_listed() -> None:
    assert fates(plan_of(SCORE_BIGINT, dependents=[view("names", "users", "id")])) == {}


@pytest.mark.parametrize(
    ("dependent", "message"),
    [
        (
            view("totals", kind="materialized_view"),
            "materialized view public.totals reads public.users.score, which alter_column (operation 0) replaces; "
            "building it again WITH DATA would read the whole table under contract's ACCESS EXCLUSIVE lock",
        ),
        (
            Dependent(
                kind="publication",
                key="publication of table public.users in publication pub",
                identity="users in publication pub",
                schema_name="public",
                name="pub",
                on="users",
                reads=reads("users", "score"),
            ),
            "publication of table public.users in publication pub reads public.users.score",
        ),
    ],
)
def test_refused_where_carrying_is_not_sound(dependent: Dependent, message: str) -> None:
    with pytest.raises(SpecError) as err:
        plan_of(SCORE_BIGINT, dependents=[dependent])
    assert err.value.render().startswith("operations[0] (alter_column): field 'column': ")
    assert message in err.value.message


def test_grants_given_by_another_role_are_refused() -> None:
    v = view("v")
    v.grants.append(Grant(grantee="auditor", grantor="reader", privilege="SELECT"))
    with pytest.raises(SpecError, match="granted by reader, not by its owner"):
        plan_of(SCORE_BIGINT, dependents=[v])


def test_a_function_taking_a_rebuilt_views_row_type_is_refused() -> None:
    f = function("by_row")
    f.reads = reads("v", None, row_type=True)
    with pytest.raises(
        SpecError, match=r"by_row\(bigint\) reads view public.v, which is rebuilt, through its row type"
    ):
        plan_of(SCORE_BIGINT, dependents=[view("v"), f])


DROP_LEGACY = {"op": "drop_column", "table": "users", "column": "legacy"}


def test_dropping_a_column_others_read_is_refused_naming_all_of_them() -> None:
    dependents = [view("report", "users", "id", "legacy"), view("top", "report"), function("legacy_of", "legacy")]
    with pytest.raises(SpecError) as err:
        plan_of(DROP_LEGACY, dependents=dependents)
    for key in ("view public.report", "view public.top", "function public.legacy_of(bigint)"):
        assert key in err.value.message
    assert "set drop_dependents: true" in err.value.message


def test_drop_dependents_drops_them_with_the_column_at_contract_only() -> None:
    dependents = [view("report", "users", "id", "legacy"), view("top", "report")]
    plan = plan_of({**DROP_LEGACY, "drop_dependents": True}, dependents=dependents)
    assert fates(plan) == {"view public.report": "dropped", "view public.top": "dropped"}
    assert parts(group(plan))[1:] == [
        "drop view public.top (drop_dependents)",
        "drop view public.report (drop_dependents)",
        "drop column users.legacy",
    ]
    assert not any("drop view public." in s.description for s in plan.expand_steps() + plan.rollback_steps())


def test_dropping_a_table_others_read_is_refused() -> None:
    with pytest.raises(SpecError, match=r"view public.v reads public.users, which drop_table \(operation 0\) drops"):
        plan_of({"op": "drop_table", "table": "users"}, dependents=[view("v")])


# liveshift convert


def test_convert_drop_column_cascade_asks_to_drop_the_dependents() -> None:
    def ops(text: str) -> list[dict]:
        return yaml.safe_load(convert_statements(split_sql(text, "m.sql"), "m.sql", "m").text)["operations"]

    assert ops("ALTER TABLE t DROP COLUMN a CASCADE") == [
        {"op": "drop_column", "table": "t", "column": "a", "drop_dependents": True}
    ]
    assert ops("ALTER TABLE t DROP COLUMN a") == [{"op": "drop_column", "table": "t", "column": "a"}]
    assert ops("ALTER TABLE t DROP CONSTRAINT c CASCADE")[0]["op"] == "raw_sql"
