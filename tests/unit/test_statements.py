"""The statement catalogue and the shared constraints planner: pure, no database. Every builder's declared lock
against what pglast reads from its SQL."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from types import FrameType

from psycopg import sql

from liveshift.catalog import (
    Catalog,
    Column,
    Constraint,
    IncomingForeignKey,
    Index,
    Partitioning,
    PartitionOf,
    Table,
)
from liveshift.ddl import statements
from liveshift.ddl.locks import MODES, read_lock
from liveshift.ddl.steps import Step
from liveshift.plan import build_plan
from liveshift.spec import parse_migration
from tests.harness.catalogs import function, view


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


# -- every builder's declared lock against what pglast reads from its SQL ----------------------------------


def lock_catalog() -> Catalog:
    """Tables with what the operations below rebuild: an index, a unique key, a check, foreign keys both ways, an
    identity key referenced by a table without a key, a serial key."""
    fk = "FOREIGN KEY (team_id) REFERENCES teams(id)"
    teams = Table(
        name="teams",
        columns=[Column(name="id", type="bigint", nullable=False), Column(name="code", type="text")],
        primary_key=["id"],
        indexes=[Index(name="teams_pkey", columns=["id"], unique=True, primary=True, constraint="teams_pkey")],
        referenced_by=[IncomingForeignKey(**_incoming("users", "users_team_id_fkey", "team_id", "id"), definition=fk)],
    )
    people = Table(
        name="users",
        columns=[
            Column(name="id", type="bigint", nullable=False),
            Column(name="email", type="text", nullable=False),
            Column(name="name", type="text"),
            Column(name="team_id", type="bigint"),
            Column(name="mood", type="mood"),
        ],
        primary_key=["id"],
        indexes=[
            Index(name="users_pkey", columns=["id"], unique=True, primary=True, constraint="users_pkey"),
            Index(
                name="users_email_idx", columns=["email"], definition="CREATE INDEX users_email_idx ON users (email)"
            ),
            Index(
                name="users_name_key",
                columns=["name"],
                unique=True,
                constraint="users_name_key",
                definition="CREATE UNIQUE INDEX users_name_key ON users (name)",
            ),
        ],
        constraints=[
            Constraint(name="users_email_check", kind="check", definition="CHECK ((email <> ''))", columns=["email"]),
            Constraint(name="users_name_key", kind="unique", definition="UNIQUE (name)", columns=["name"]),
            Constraint(
                name="users_team_id_fkey", kind="foreign_key", definition=fk, columns=["team_id"], **_to("teams")
            ),
        ],
    )
    history_fk = "FOREIGN KEY (aid) REFERENCES accounts(aid)"
    accounts = Table(
        name="accounts",
        columns=[Column(name="aid", type="integer", nullable=False, identity="d")],
        primary_key=["aid"],
        indexes=[Index(name="accounts_pkey", columns=["aid"], unique=True, primary=True, constraint="accounts_pkey")],
        referenced_by=[
            IncomingForeignKey(**_incoming("history", "history_aid_fkey", "aid", "aid"), definition=history_fk)
        ],
    )
    history = Table(
        name="history",
        columns=[Column(name="aid", type="integer"), Column(name="delta", type="integer", nullable=False)],
        constraints=[
            Constraint(
                name="history_aid_fkey", kind="foreign_key", definition=history_fk, columns=["aid"], **_to("accounts")
            )
        ],
    )
    orders = Table(
        name="orders",
        columns=[
            Column(name="id", type="integer", nullable=False, default="nextval('orders_id_seq'::regclass)"),
            Column(name="note", type="text"),
            Column(name="note_len", type="integer", default="length(note)", generated=True, virtual=True),
        ],
        primary_key=["id"],
        indexes=[Index(name="orders_pkey", columns=["id"], unique=True, primary=True, constraint="orders_pkey")],
    )
    tables = (teams, people, accounts, history, orders)
    enums = {"mood": ["happy", "ok", "sad"], "legacy": ["a"]}
    return Catalog(schema_name="public", tables={t.name: t for t in tables}, enums=enums)


def _incoming(table: str, name: str, column: str, ref_column: str) -> dict:
    return {"schema_name": "public", "table": table, "name": name, "columns": [column], "ref_columns": [ref_column]}


def _to(table: str) -> dict:
    return {"ref_schema": "public", "ref_table": table, "ref_columns": ["id" if table == "teams" else "aid"]}


# one migration each, over lock_catalog: together they call every statement builder
LOCK_CHECK_OPS = [
    {"op": "add_column", "table": "users", "column": {"name": "team", "type": "bigint", "nullable": False,
     "default": "0", "unique": True, "check": "team >= 0", "references": {"table": "teams", "column": "id"}},
     "up": "0"},
    {"op": "alter_column", "table": "users", "column": "email", "type": "varchar(200)"},
    {"op": "alter_column", "table": "users", "column": "team_id", "type": "integer"},
    {"op": "alter_column", "table": "users", "column": "name", "nullable": False, "up": "coalesce(name, '')"},
    {"op": "alter_column", "table": "users", "column": "name", "default": None},
    {"op": "alter_column", "table": "users", "column": "name", "default": "'anon'"},
    {"op": "rename_column", "table": "users", "column": "email", "to": "mail"},
    {"op": "drop_column", "table": "users", "column": "team_id"},
    {"op": "add_constraint", "table": "users", "name": "users_email_key", "type": "unique", "columns": ["email"]},
    {"op": "add_constraint", "table": "history", "name": "history_acc_fk", "type": "foreign_key", "columns": ["aid"],
     "references": {"table": "accounts", "columns": ["aid"]}},
    {"op": "drop_constraint", "table": "users", "name": "users_team_id_fkey"},
    {"op": "create_index", "name": "users_nm_idx", "table": "users", "columns": ["name"], "where": "name > ''"},
    {"op": "drop_index", "name": "users_email_idx"},
    {"op": "create_table", "table": "pets", "columns": [{"name": "id", "type": "bigint", "nullable": False},
     {"name": "owner", "type": "bigint", "references": {"table": "users", "column": "id"}}], "primary_key": ["id"]},
    {"op": "drop_table", "table": "history"},
    {"op": "rename_table", "table": "users", "to": "people"},
    {"op": "raw_sql", "up": "ALTER TABLE users ADD COLUMN z int", "down": "ALTER TABLE users DROP COLUMN z"},
    {"op": "raw_sql", "up": "SELECT 1"},
    {"op": "alter_column", "table": "accounts", "column": "aid", "type": "bigint"},
    {"op": "alter_column", "table": "orders", "column": "id", "type": "bigint"},
    # issue 22 (items 1-7, 9, 11, 12)
    {"op": "create_index", "name": "users_em_idx", "table": "users", "columns": [{"name": "email", "opclass":
     "text_pattern_ops", "collation": "C", "order": "desc", "nulls": "first"}], "include": ["name"],
     "storage_parameters": {"fillfactor": 70}, "tablespace": "fast", "unique": True, "nulls_not_distinct": True},
    {"op": "create_table", "table": "seats", "columns": [{"name": "a", "type": "bigint", "unique": {"name": "s_u"}},
     {"name": "b", "type": "bigint"}], "constraints": [{"type": "foreign_key", "columns": ["b"], "references":
     {"table": "users", "columns": ["id"], "on_delete": "SET NULL", "on_delete_columns": ["b"]}}]},
    {"op": "add_column", "table": "users", "column": {"name": "t2", "type": "bigint", "check": {"name": "c2",
     "expression": "t2 > 0", "no_inherit": True}, "references": {"table": "teams", "column": "id", "name": "f2",
     "on_update": "CASCADE", "match": "full", "deferrable": True}}},
    {"op": "comment", "table": "users", "column": "email", "comment": "x"},
    {"op": "comment", "table": "users", "constraint": "users_email_check", "comment": None},
    {"op": "rename_constraint", "table": "users", "name": "users_email_check", "to": "users_email_ok"},
    {"op": "set_replica_identity", "table": "users", "identity": "index", "index": "users_pkey"},
    {"op": "raw_sql", "up": "CREATE TABLE t (a int)", "on_complete": "CREATE INDEX t_a ON t (a)"},
    # issue 22, items 2 and 7: identity and generated columns, primary keys
    {"op": "add_column", "table": "users", "column": {"name": "n", "type": "bigint", "identity": {"start": 5}}},
    {"op": "add_column", "table": "users", "column": {"name": "v", "type": "bigint",
     "generated": {"expression": "id * 2", "stored": False}}},
    {"op": "alter_column", "table": "orders", "column": "id", "identity": "always"},
    {"op": "add_primary_key", "table": "history", "columns": ["aid"]},
    {"op": "alter_primary_key", "table": "teams", "columns": ["code"]},
    {"op": "alter_primary_key", "table": "orders", "columns": ["id", "note"]},
    {"op": "alter_column", "table": "orders", "column": "note", "type": "varchar(100)"},
    # issue 22 (item 10)
    {"op": "create_enum", "name": "size", "values": ["s", "m"]},
    {"op": "drop_enum", "name": "legacy"},
    {"op": "add_enum_value", "enum": "mood", "value": "meh", "before": "sad"},
    {"op": "rename_enum_value", "enum": "mood", "value": "sad", "to": "down"},
    {"op": "remove_enum_value", "enum": "mood", "value": "sad", "replacement": "ok", "columns": ["users.mood"]},
]  # fmt: skip


def dependents_catalog() -> Catalog:
    """users.score read by a view and by a function with an SQL-standard body: contract carries them."""
    users = Table(
        name="users",
        columns=[Column(name="id", type="bigint", nullable=False), Column(name="score", type="integer")],
        primary_key=["id"],
        indexes=[Index(name="users_pkey", columns=["id"], unique=True, primary=True)],
    )
    return Catalog(schema_name="public", tables={"users": users}, dependents=[view("v"), function()])


# migrations over dependents_catalog: rebuilt (taken off, built again) and dropped with the column
DEPENDENT_OPS = [
    (dependents_catalog(), {"op": "alter_column", "table": "users", "column": "score", "type": "bigint"}),
    (dependents_catalog(), {"op": "drop_column", "table": "users", "column": "score", "drop_dependents": True}),
]


def partitioned_catalog(default: bool = True) -> Catalog:
    """events, range-partitioned, one partition itself hash-partitioned: its indexes are built per partition; its
    first partition the DEFAULT one (or, `default` False, a range); events_new, a table to attach."""
    first = "DEFAULT" if default else "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')"
    columns = [
        Column(name="id", type="bigint", nullable=False),
        Column(name="day", type="date", nullable=False),
        Column(name="n", type="int"),
    ]
    events_new = Table(
        name="events_new",
        columns=columns,
        primary_key=["id", "day"],
        indexes=[
            Index(name="new_pkey", columns=["id", "day"], unique=True, primary=True, constraint="new_pkey"),
            Index(name="new_day_id", columns=["day", "id"]),
        ],
    )
    events = Table(
        name="events",
        columns=columns,
        primary_key=["id", "day"],
        indexes=[
            Index(name="events_pkey", columns=["id", "day"], unique=True, primary=True, constraint="events_pkey"),
            Index(name="events_day_id", columns=["day", "id"]),
        ],
        partitioning=Partitioning(
            strategy="range",
            key=["day"],
            partitions=[
                PartitionOf(schema_name="public", name="events_a", parent="events", bound=first),
                PartitionOf(schema_name="public", name="events_b", parent="events", leaf=False, key=["id"]),
                PartitionOf(schema_name="public", name="events_b0", parent="events_b"),
            ],
        ),
    )
    return Catalog(schema_name="public", tables={"events": events, "events_new": events_new})


def keyed_catalog(server_version: int) -> Catalog:
    """partitioned_catalog's events with n indexed, in a unique constraint and a foreign key, all rebuilt per
    partition when n is swapped; read from a server of `server_version`."""
    catalog = partitioned_catalog()
    events = catalog.tables["events"]
    indexes = [
        Index(name="events_n_idx", columns=["n"], definition="CREATE INDEX events_n_idx ON ONLY public.events (n)"),
        Index(
            name="events_n_key",
            columns=["n", "id", "day"],
            unique=True,
            constraint="events_n_key",
            definition="CREATE UNIQUE INDEX events_n_key ON ONLY public.events (n, id, day)",
        ),
    ]
    constraints = [
        Constraint(name="events_n_key", kind="unique", definition="UNIQUE (n, id, day)", columns=["n", "id", "day"]),
        Constraint(
            name="events_n_fk",
            kind="foreign_key",
            definition="FOREIGN KEY (n) REFERENCES events_new(id)",
            columns=["n"],
            ref_table="events_new",
            ref_columns=["id"],
        ),
    ]
    events = events.model_copy(update={"indexes": [*events.indexes, *indexes], "constraints": constraints})
    tables = {**catalog.tables, "events": events}
    return catalog.model_copy(update={"tables": tables, "server_version": server_version})


NEXT_YEAR = {"table": "events", "partition": "events_2030", "from": "2030-01-01", "to": "2031-01-01"}

# migrations over partitioned_catalog: an index built per partition, and one dropped with its partitions'; a
# partition created, attached and detached, with a DEFAULT partition (which ATTACH would scan) and without
PARTITIONED_OPS = [
    (partitioned_catalog(), {"op": "create_index", "table": "events", "name": "events_day_idx", "columns": ["day"]}),
    (partitioned_catalog(), {"op": "drop_index", "name": "events_day_id"}),
    (partitioned_catalog(), {"op": "create_partition", **NEXT_YEAR}),
    (partitioned_catalog(default=False), {"op": "create_partition", **NEXT_YEAR}),
    (partitioned_catalog(default=False), {"op": "attach_partition", **NEXT_YEAR, "partition": "events_new"}),
    (partitioned_catalog(), {"op": "detach_partition", "table": "events", "partition": "events_b"}),
    # an index, a unique constraint and a foreign key rebuilt per partition, the key validated per partition
    # before 18; a unique constraint added per partition
    (
        keyed_catalog(150000),
        {"op": "alter_column", "table": "events", "column": "n", "type": "bigint"},
    ),
    (
        partitioned_catalog(),
        {"op": "add_constraint", "table": "events", "name": "events_u", "type": "unique", "columns": ["id", "day"]},
    ),
]

# builders whose SQL does not name every table they lock (their lock names more), and why
NOT_IN_THE_SQL = {
    "name_not_null_constraint": "a DO block: pglast does not read into its body",
    "move_sequence": "a DO block: pglast does not read into its body",
    "drop_checks_on_columns": "a DO block: pglast does not read into its body",
    "drop_foreign_key": "dropping a foreign key locks the referenced table too, which the SQL does not name",
    "drop_foreign_key_while_hidden": "dropping a foreign key locks the referenced table too (as drop_foreign_key)",
    "detach_dependent": "a view taken off is locked too: the reading names the tables, not the views",
    "reattach_dependent": "a view built again is locked too (as detach_dependent)",
    "drop_dependent": "a view dropped is locked too (as detach_dependent)",
    "drop_partitioned_index": "DROP INDEX names the index, not the partitioned table it locks with its partitions",
    "attach_partition": "ATTACH locks the DEFAULT partition too, which the SQL does not name",
    "detach_partition": "DETACH locks the DEFAULT partition too, which the SQL does not name",
    "drop_table_if_empty": "a DO block: pglast does not read into its body",
    "drop_checks_except": "a DO block: pglast does not read into its body",
    "identity_from_fill_sequence": "a DO block: pglast does not read into its body",
    "add_identity_past_max": "a DO block: pglast does not read into its body",
    "reindex_concurrently": "REINDEX INDEX names the index, not the table it locks",
}

# builders that take a stronger lock than their SQL says, and why
STRONGER_THAN_THE_SQL = {
    "add_foreign_key_over_partitions": "attaching the partitions' keys drops their triggers on the referenced "
    "table, under ACCESS EXCLUSIVE there (measured on 15 and 18)",
}

BUILDERS = {
    name
    for name, fn in vars(statements).items()
    if inspect.isfunction(fn) and fn.__module__ == statements.__name__ and "Step" in str(fn.__annotations__["return"])
}


def _steps_in(value: object) -> Iterator[Step]:
    if isinstance(value, Step):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _steps_in(item)


def _planned_by_builder() -> tuple[list[Step], dict[tuple[str, str], set[str]]]:
    """Every step of every phase of LOCK_CHECK_OPS' plans (grouped and not), and the builders that returned each
    (seen on their way out of the statements module), by description and SQL: an operation may `replace` a
    step's guard, never its lock."""
    made: dict[tuple[str, str], set[str]] = {}

    def watch(frame: FrameType, event: str, value: object) -> None:
        code = frame.f_code
        if event == "return" and code.co_filename == statements.__file__ and code.co_name in BUILDERS:
            for step in _steps_in(value):
                made.setdefault((step.description, text(step)), set()).add(code.co_name)

    steps: list[Step] = []
    sys.setprofile(watch)
    try:
        for catalog, op in [*((lock_catalog(), op) for op in LOCK_CHECK_OPS), *DEPENDENT_OPS, *PARTITIONED_OPS]:
            plan = build_plan(parse_migration({"name": "m1", "operations": [op]}, file="m.yaml"), catalog, None)
            steps += plan.expand_steps() + plan.validate_steps() + plan.contract_steps() + plan.rollback_steps()
            steps += [s for phase in plan.phases().values() for s in phase if s.parts]
        # the rebuilds after a backfill (backfill/rebuild.py), chosen at run time from the index sizes
        steps += [
            statements.reindex_concurrently("public", "users", "users_pkey", ("users_pkey", 1000)),
            statements.reindex_concurrently("public", "users", "users_email_idx", None),
            statements.drop_invalid_index("public", "users_pkey_ccold"),
        ]
    finally:
        sys.setprofile(None)
    return steps, made


def _builders(step: Step, made: dict[tuple[str, str], set[str]]) -> set[str]:
    return set().union(*(_builders(p, made) for p in step.parts)) if step.parts else made[step.description, text(step)]


def test_every_builder_declares_the_lock_its_sql_takes() -> None:
    """pglast's reading of each step's SQL (locks.read_lock) is the oracle for the lock its builder declared,
    which the executor waits for and `liveshift plan` prints. The user's raw SQL declares none: nothing to check."""
    steps, made = _planned_by_builder()
    called = set().union(*made.values())
    assert not BUILDERS - called, "builders no operation here calls"
    for step in steps:
        declared, read = step.lock, read_lock(text(step))
        if declared is None:
            assert step.description.startswith("raw SQL"), step.description
            continue
        why = step.description, declared, read
        assert declared.concurrently == read.concurrently, why
        assert declared.by is None or declared.by in text(step), why
        if read.tables and _builders(step, made) & STRONGER_THAN_THE_SQL.keys():
            assert MODES.index(declared.mode) > MODES.index(read.mode), why  # type: ignore[arg-type]
        elif read.tables:  # where the SQL says
            assert (declared.mode, declared.linked) == (read.mode, read.linked), why
        if _builders(step, made) & NOT_IN_THE_SQL.keys():
            assert declared.tables and set(read.tables) <= set(declared.tables), why
        else:
            assert declared.tables == read.tables, why
