"""build_plan on hand-built catalogs: pure, no database."""

from __future__ import annotations

import pytest
from psycopg import sql

from liveshift.backfill.blocks import split_blocks
from liveshift.catalog import Column, Constraint, IncomingForeignKey, Index, Table
from liveshift.ddl.steps import Step
from liveshift.errors import SpecError
from liveshift.operations.base import Transform
from liveshift.plan import build_plan, direct_backfill
from liveshift.preflight.keyless import version_refusal
from liveshift.spec import parse_migration
from tests.harness.catalogs import add_column, catalog, migration, users


def text(step: Step) -> str:
    return step.statement.as_string(None)


def descriptions(steps: list[Step]) -> list[str]:
    return [s.description for s in steps]


def test_first_migration_creates_blue_and_green_around_the_operation() -> None:
    plan = build_plan(migration(add_column("users", "email_lower")), catalog(users()), None)
    assert (plan.blue, plan.green, plan.create_blue) == ("public_base", "public_m1", True)
    expand = descriptions(plan.expand_steps())
    assert expand == [
        "create version schema public_base",
        "create view public_base.users",
        "run view public_base.users with the caller's rights",
        "register public_base as the current version",
        "add hidden column _ls_new_email_lower (text) to users",
        "add row marker _ls_written_by to users (constant default: no rewrite)",
        "create dual-write function for users",
        "create dual-write triggers on users",
        "create version schema public_m1",
        "create view public_m1.users",
        "run view public_m1.users with the caller's rights",
    ]
    green_view = text(plan.expand_steps()[-2])
    assert '"_ls_new_email_lower" AS "email_lower"' in green_view
    blue_view = text(plan.expand_steps()[1])
    assert "_ls_new_email_lower" not in blue_view
    (target,) = plan.backfill_targets()
    assert (target.table, target.key, target.key_types, target.path) == ("users", ("id",), ("bigint",), "direct")
    assert target.ups == tuple(plan.transforms)


def test_contract_and_rollback_structure() -> None:
    plan = build_plan(migration(add_column("users", "email_lower", nullable=False)), catalog(users()), None)
    contract = descriptions([p for s in plan.contract_steps() for p in (s.parts or (s,))])
    assert contract[:2] == ["drop views of version public_base", "drop version schema public_base"]
    # the other in-flight versions see users in its final shape from the transaction that drops its trigger on
    (handover,) = [s for s in plan.contract_steps() if s.parts]
    assert descriptions(list(handover.parts)) == [
        "show users as contract leaves it in other in-flight greens, if any",
        "drop dual-write triggers on users",
    ]
    assert contract.index("drop dual-write triggers on users") < contract.index("drop column users._ls_written_by")
    assert contract.index("drop column users._ls_written_by") < contract.index(
        "rename column users._ls_new_email_lower to email_lower"
    )
    # the op's own contract steps come last, written with the final names
    assert contract[-2:] == [
        "set users.email_lower NOT NULL (proven by _ls_nn_email_lower, no scan)",
        "drop constraint _ls_nn_email_lower on users",
    ]
    assert 'ALTER COLUMN "email_lower" SET NOT NULL' in text(plan.contract_steps()[-2])
    assert descriptions(plan.validate_steps()) == ["validate constraint _ls_nn_email_lower on users"]

    rollback = descriptions(plan.rollback_steps())
    assert rollback[:2] == ["drop views of version public_m1", "drop version schema public_m1"]
    assert "drop column users._ls_new_email_lower" in rollback
    assert rollback[-3:] == [
        "drop views of version public_base",
        "drop version schema public_base",
        "forget version public_base",
    ]
    assert not any("rename" in d for d in rollback)


def test_later_migration_uses_the_current_version_as_blue() -> None:
    plan = build_plan(migration(add_column("users", "email_lower"), name="m2"), catalog(users()), "public_m1")
    assert (plan.blue, plan.green, plan.create_blue) == ("public_m1", "public_m2", False)
    assert not any("public_m1" in d for d in descriptions(plan.expand_steps()))
    assert descriptions(plan.contract_steps())[:2] == [
        "drop views of version public_m1",
        "drop version schema public_m1",
    ]
    assert not any("forget version" in d for d in descriptions(plan.rollback_steps()))


def test_every_step_is_guarded_or_idempotent_by_construction() -> None:
    plan = build_plan(
        migration(add_column("users", "email_lower", nullable=False, unique=True)), catalog(users()), None
    )
    for phase, steps in plan.phases().items():
        for step in steps:
            statement = text(step)
            guarded = step.skip_if is not None or any(
                word in statement for word in ("IF NOT EXISTS", "IF EXISTS", "OR REPLACE", "ON CONFLICT", "DELETE")
            )
            assert guarded, f"{phase}: {step.description} is neither guarded nor idempotent: {statement}"
    concurrent = [s for s in plan.expand_steps() if "CONCURRENTLY" in text(s)]
    assert len(concurrent) == 1
    assert not concurrent[0].transactional
    assert concurrent[0].index_to_clean == sql.Identifier("public", "users_email_lower_key")


def test_operations_are_checked_against_the_previous_operations_catalog() -> None:
    # the second operation sees the column the first one added
    dup = migration(add_column("users", "email_lower"), add_column("users", "email_lower", up="upper(email)"))
    with pytest.raises(SpecError) as info:
        build_plan(dup, catalog(users()), None, file="m.yaml")
    err = info.value
    assert (err.file, err.index, err.op, err.field) == ("m.yaml", 1, "add_column", "column.name")
    assert str(err) == (
        "m.yaml: operations[1] (add_column): field 'column.name': column 'email_lower' already exists in table 'users'"
    )
    # two different columns: both planned, the second reading the first's logical catalog
    plan = build_plan(
        migration(add_column("users", "a"), add_column("users", "b", up="upper(email)")), catalog(users()), None
    )
    assert [c.name for c in plan.final.tables["users"].columns] == ["id", "email", "a", "b"]
    (_, first_ctx, _), (_, second_ctx, _) = plan.ops
    assert [c.name for c in second_ctx.before.tables["users"].columns] == ["id", "email", "a"]
    assert first_ctx.after == second_ctx.before
    assert len(plan.transforms) == 2
    assert plan.physical == catalog(users())  # the physical snapshot is untouched


def test_unknown_table_and_reference_are_located() -> None:
    with pytest.raises(SpecError) as info:
        build_plan(migration(add_column("users", "a"), add_column("nope", "b")), catalog(users()), None)
    assert (info.value.index, info.value.field) == (1, "table")
    assert "table public.'nope' does not exist" in info.value.message

    ref = add_column("users", "c", references={"table": "users", "column": "missing"})
    with pytest.raises(SpecError) as info:
        build_plan(migration(ref), catalog(users()), None)
    assert (info.value.index, info.value.field) == (0, "column.references.column")


def test_not_null_without_fill_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        build_plan(migration(add_column("users", "x", up=None, nullable=False)), catalog(users()), None)
    assert (info.value.index, info.value.field) == (0, "up")


def test_backfill_key_falls_back_to_unique_not_null_then_to_block_ranges() -> None:
    plan = build_plan(migration(add_column("users", "a")), catalog(users(False, unique_not_null=True)), None)
    assert [(t.table, t.key, t.key_types, t.batches) for t in plan.backfill_targets()] == [
        ("users", ("email",), ("text",), "key ranges")
    ]

    # neither a primary key nor a unique NOT NULL key: planned, walked by physical block ranges
    plan = build_plan(migration(add_column("users", "a")), catalog(users(False)), None, file="f.yaml")
    (target,) = plan.backfill_targets()
    assert (target.table, target.key, target.key_types, target.batches, target.path) == (
        "users",
        (),
        (),
        "ctid block ranges",
        "direct",
    )
    assert plan.marker_tables() == ["users"]
    assert plan.filled_by("users") == (0, "add_column")

    # no backfill needed (no up, no default): nothing to walk
    plan = build_plan(migration(add_column("users", "a", up=None)), catalog(users(False)), None)
    assert plan.backfill_targets() == []
    assert plan.marker_tables() == []


def accounts_and_history() -> tuple[Table, Table]:
    """accounts (integer key aid) and history, whose foreign key references it."""
    history = Table(
        name="history",
        columns=[Column(name="aid", type="integer"), Column(name="delta", type="integer", nullable=False)],
        constraints=[
            Constraint(
                name="history_aid_fkey",
                kind="foreign_key",
                definition="FOREIGN KEY (aid) REFERENCES accounts(aid)",
                columns=["aid"],
                ref_schema="public",
                ref_table="accounts",
                ref_columns=["aid"],
            )
        ],
    )
    accounts = Table(
        name="accounts",
        columns=[Column(name="aid", type="integer", nullable=False)],
        primary_key=["aid"],
        indexes=[Index(name="accounts_pkey", columns=["aid"], unique=True, primary=True, constraint="accounts_pkey")],
        referenced_by=[
            IncomingForeignKey(
                schema_name="public",
                table="history",
                name="history_aid_fkey",
                columns=["aid"],
                ref_columns=["aid"],
                definition="FOREIGN KEY (aid) REFERENCES accounts(aid)",
            )
        ],
    )
    return accounts, history


def test_key_to_bigint_backfills_a_referencing_table_without_a_key() -> None:
    op = {"op": "alter_column", "table": "accounts", "column": "aid", "type": "bigint"}
    plan = build_plan(migration(op), catalog(*accounts_and_history()), None, file="f.yaml")
    targets = {t.table: (t.key, t.batches) for t in plan.backfill_targets()}
    assert targets == {"accounts": (("aid",), "key ranges"), "history": ((), "ctid block ranges")}
    assert plan.filled_by("history") == (0, "alter_column")


def key_index_phase(plan_phases: dict[str, list[Step]]) -> list[str]:
    """The phases whose steps build the new key's unique index."""
    return [p for p, steps in plan_phases.items() if any("_ls_pk_accounts_pkey" in text(s) for s in steps)]


@pytest.mark.parametrize(("indexes", "phase"), [({}, "expand"), ({"indexes": "after_backfill"}, "validate")])
def test_the_new_key_index_is_built_at_expand_or_after_the_backfill(indexes: dict[str, str], phase: str) -> None:
    op = {"op": "alter_column", "table": "accounts", "column": "aid", "type": "bigint", **indexes}
    plan = build_plan(migration(op), catalog(*accounts_and_history()), None, file="f.yaml")
    phases = plan.phases()
    assert key_index_phase({p: phases[p] for p in ("expand", "validate")}) == [phase]
    # before the foreign key to it is added again, in the same phase or later
    validate = [text(s) for s in phases["validate"]]
    foreign_key = next(i for i, t in enumerate(validate) if "FOREIGN KEY" in t)
    assert all(i < foreign_key for i, t in enumerate(validate) if "_ls_pk_accounts_pkey" in t)


def test_after_backfill_refused_where_the_old_key_cannot_check_the_new_one() -> None:
    op = {
        "op": "alter_column",
        "table": "accounts",
        "column": "aid",
        "type": "bigint",
        "up": "aid::bigint * 2",
        "down": "(aid / 2)::integer",
        "indexes": "after_backfill",
    }
    with pytest.raises(SpecError) as info:
        build_plan(migration(op), catalog(*accounts_and_history()), None, file="f.yaml")
    assert (info.value.index, info.value.field) == (0, "indexes")
    assert "'accounts_pkey'" in info.value.message and "plain casts" in info.value.message


def test_block_ranges_split_and_refusal_before_14() -> None:
    assert split_blocks(10, 77, 1) == [([0], [10, 77])]
    assert split_blocks(10, 77, 3) == [([0], [3, 77]), ([3], [6, 77]), ([6], [10, 77])]
    # never an empty range, except the one range of an empty table
    assert split_blocks(2, 77, 4) == [([0], [1, 77]), ([1], [2, 77])]
    assert split_blocks(0, 77, 4) == [([0], [0, 77])]
    assert version_refusal("history", 140000) is None
    refused = version_refusal("history", 130011)
    assert refused is not None and "table 'history'" in refused and "PostgreSQL 14" in refused
    assert "this server is 13" in refused


def up(target: str, reads: tuple[str, ...], op_index: int = 0) -> Transform:
    """An `up` assigning physical `target`, its variables stored in the physical columns `reads`."""
    variables = tuple(Column(name=f"v_{r}", type="text", stored_as=r) for r in reads)
    return Transform("up", "users", target, "text", " || ".join(f"v_{r}" for r in reads), variables, op_index)


def test_direct_backfill_unless_an_up_reads_or_reassigns_what_an_earlier_one_assigns() -> None:
    assert direct_backfill([])
    assert direct_backfill([up("new_a", ("id", "email"))])
    # independent columns, and one reading its own target (the old value in both paths)
    assert direct_backfill([up("new_a", ("email",)), up("new_b", ("email", "id")), up("new_c", ("new_c",), 2)])
    # the second reads the first one's target: the trigger gives it the new value, one SET the old one
    assert not direct_backfill([up("new_a", ("email",)), up("new_b", ("email", "new_a"), 1)])
    # a later transform of the same column: the trigger keeps the last assignment, a SET cannot assign twice
    assert not direct_backfill([up("new_a", ("email",)), up("new_a", ("id",), 1)])
    # reading a column that only a later transform assigns is reading the stored value in both paths
    assert direct_backfill([up("new_a", ("new_b",)), up("new_b", ("email",), 1)])
    # an earlier target among the variables (the shape grew) but not named by the expression: independent
    shape = tuple(Column(name=f"v_{r}", type="text", stored_as=r) for r in ("email", "new_a"))
    independent = Transform("up", "users", "new_b", "text", "lower(v_email)", shape, 1)
    assert direct_backfill([up("new_a", ("email",)), independent])
    reads_all = Transform("up", "users", "new_b", "text", "row_to_json(t.*)::text", shape, 1)
    assert not direct_backfill([up("new_a", ("email",)), reads_all])


def test_backfill_path_per_table_in_the_plan() -> None:
    orders = Table(
        name="orders",
        columns=[Column(name="id", type="bigint", nullable=False), Column(name="note", type="text")],
        primary_key=["id"],
        indexes=[Index(name="orders_pkey", columns=["id"], unique=True, primary=True)],
    )
    m = migration(
        add_column("users", "a"),
        # sees users.a (stored in _ls_new_a, which the first up assigns): the trigger chains them
        add_column("users", "b", up="upper(a)"),
        add_column("orders", "note_lower", up="lower(note)"),
    )
    plan = build_plan(m, catalog(users(), orders), None)
    paths = {t.table: (t.path, [u.target for u in t.ups]) for t in plan.backfill_targets()}
    assert paths == {"orders": ("direct", ["_ls_new_note_lower"]), "users": ("trigger", ["_ls_new_a", "_ls_new_b"])}
    # a rename before a type change: the up reads the renamed column through its logical name, still direct
    rename = {"op": "rename_column", "table": "users", "column": "email", "to": "mail"}
    retype = {"op": "alter_column", "table": "users", "column": "mail", "type": "varchar(200)", "up": "mail"}
    retype["down"] = "mail::text"
    (target,) = build_plan(migration(rename, retype), catalog(users()), None).backfill_targets()
    assert target.path == "direct"
    assert [(v.name, v.physical) for v in target.ups[0].variables] == [("id", "id"), ("mail", "email")]


def test_probes_cover_types_and_expressions_with_their_fields() -> None:
    op = add_column("users", "n", up="length(email)", default="0", check="n >= 0")
    op["column"]["type"] = "integer"
    plan = build_plan(migration(op), catalog(users()), None)
    fields = sorted((index, fld) for index, fld, _, _ in plan.probes())
    assert fields == [(0, "column.check"), (0, "column.default"), (0, "column.type"), (0, "up")]


def test_build_plan_is_deterministic() -> None:
    m = migration(add_column("users", "a"), add_column("users", "b", up="upper(email)"))
    one = {p: [text(s) for s in steps] for p, steps in build_plan(m, catalog(users()), None).phases().items()}
    two = {p: [text(s) for s in steps] for p, steps in build_plan(m, catalog(users()), None).phases().items()}
    assert one == two


def test_constraints_on_new_columns_come_after_the_dual_write_trigger() -> None:
    # a NOT VALID check is enforced for new rows: before the trigger fills the column, it would refuse app writes
    plan = build_plan(
        migration(add_column("users", "a", nullable=False, unique=True), add_column("users", "b", nullable=False)),
        catalog(users()),
        None,
    )
    expand = descriptions(plan.expand_steps())
    trigger = expand.index("create dual-write triggers on users")
    for column in ("a", "b"):
        assert expand.index(f"add hidden column _ls_new_{column} (text) to users") < trigger
        assert expand.index(f"add check _ls_nn_{column} (_ls_new_{column} IS NOT NULL) NOT VALID") > trigger
    assert expand.index("create unique index users_a_key on users (_ls_new_a) concurrently") > trigger


def test_the_demos_independent_operations_on_one_table_plan_direct() -> None:
    from liveshift.cli.commands.demo import MIGRATION

    accounts = Table(
        name="accounts",
        columns=[
            Column(name="id", type="bigint", nullable=False),
            Column(name="email", type="text", nullable=False),
            Column(name="amount", type="integer"),
            Column(name="note", type="text"),
        ],
        primary_key=["id"],
        indexes=[Index(name="accounts_pkey", columns=["id"], unique=True, primary=True)],
    )
    (target,) = build_plan(parse_migration(MIGRATION), catalog(accounts), None).backfill_targets()
    assert (target.table, target.path) == ("accounts", "direct")
    assert [u.target for u in target.ups] == ["_ls_new_email_lower", "_ls_new_amount"]
