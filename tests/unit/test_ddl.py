"""The safe DDL executor: backoff with full jitter; which tables and mode a step locks; grouping steps."""

from __future__ import annotations

import random

import pytest
from psycopg import sql

from liveshift.ddl.executor import backoff_delay
from liveshift.ddl.grouping import group_steps
from liveshift.ddl.locks import (
    ACCESS_EXCLUSIVE,
    CONFLICTS,
    SHARE_ROW,
    SHARE_UPDATE,
    stalls_applications,
    statement_locks,
    step_locks,
)
from liveshift.ddl.steps import CONCURRENTLY as CIC_LABEL
from liveshift.ddl.steps import NO_TABLE_LOCK, Step
from liveshift.ddl.steps import SHARE_ROW_EXCLUSIVE_BRIEF as SRE_LABEL
from liveshift.ddl.steps import SHARE_UPDATE_EXCLUSIVE as SUE_LABEL
from liveshift.plan import build_plan
from liveshift.values import LockPolicy
from tests.harness.catalogs import add_column, catalog, migration, users


@pytest.mark.parametrize("attempt", range(12))
def test_backoff_within_bounds(attempt: int) -> None:
    policy = LockPolicy(backoff_initial_s=0.2, backoff_max_s=10.0)
    rng = random.Random(attempt)
    cap = min(10.0, 0.2 * 2**attempt)
    delays = [backoff_delay(policy, attempt, rng) for _ in range(500)]
    assert all(0 <= d <= cap for d in delays)
    # jitter really spreads the retries over the whole window
    assert max(delays) > 0.9 * cap
    assert min(delays) < 0.1 * cap


def test_backoff_cap_and_determinism() -> None:
    policy = LockPolicy(backoff_initial_s=0.5, backoff_max_s=2.0)
    assert all(backoff_delay(policy, 50, random.Random(i)) <= 2.0 for i in range(200))
    assert backoff_delay(policy, 3, random.Random(7)) == backoff_delay(policy, 3, random.Random(7))
    zero = LockPolicy(backoff_initial_s=0.0)
    assert backoff_delay(zero, 5, random.Random(1)) == 0.0


# which tables and mode a step locks


def _step(text: str, **kwargs: object) -> Step:
    return Step(text[:40], sql.SQL(text), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ALTER TABLE "public"."users" ADD COLUMN "x" text', {("public", "users"): ACCESS_EXCLUSIVE}),
        ("ALTER TABLE s.t VALIDATE CONSTRAINT c", {("s", "t"): SHARE_UPDATE}),
        (
            "ALTER TABLE s.t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES s.p (id) NOT VALID",
            {("s", "t"): SHARE_ROW, ("s", "p"): SHARE_ROW},
        ),
        (
            "DROP TRIGGER IF EXISTS tr ON s.t; "
            "CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()",
            {("s", "t"): ACCESS_EXCLUSIVE},
        ),
        ("CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()", {("s", "t"): SHARE_ROW}),
        ("ALTER TABLE s.t RENAME COLUMN a TO b", {("s", "t"): ACCESS_EXCLUSIVE}),
        ("ALTER TABLE s.t RENAME CONSTRAINT a TO b", {("s", "t"): ACCESS_EXCLUSIVE}),
        ("ALTER TABLE s.t RENAME TO u", {("s", "t"): ACCESS_EXCLUSIVE}),
        ("DROP TABLE IF EXISTS s.t", {("s", "t"): ACCESS_EXCLUSIVE}),
        ("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON s.t (a)", {("s", "t"): SHARE_UPDATE}),
        ("CREATE TABLE s.n (id int REFERENCES s.p (id))", {("s", "p"): SHARE_ROW}),
        ("ALTER INDEX s.i RENAME TO j", {}),
        ("CREATE VIEW v.t AS SELECT a FROM s.t", {}),
        ("DO $$ BEGIN END $$", {}),
    ],
)
def test_statement_locks(text: str, expected: dict[tuple[str, str], str]) -> None:
    assert statement_locks(text) == expected


def test_step_locks_declared_or_read() -> None:
    assert step_locks(_step("ALTER TABLE s.t ADD COLUMN x int")) == ((("s", "t"),), ACCESS_EXCLUSIVE)
    # a DO block: the builder names the table, the label the mode
    do = _step("DO $$ BEGIN END $$", tables=(("s", "t"),))
    assert step_locks(do) == ((("s", "t"),), ACCESS_EXCLUSIVE)
    assert step_locks(_step("DO $$ BEGIN END $$")) == ((), None)
    both = _step("ALTER TABLE s.t DROP CONSTRAINT fk", tables=(("s", "t"), ("s", "p")))
    assert step_locks(both) == ((("s", "t"), ("s", "p")), ACCESS_EXCLUSIVE)
    assert stalls_applications(ACCESS_EXCLUSIVE) and stalls_applications(SHARE_ROW)
    assert not stalls_applications(SHARE_UPDATE) and not stalls_applications(None)


def test_conflict_table_is_symmetric() -> None:
    for mode, conflicts in CONFLICTS.items():
        assert all(mode in CONFLICTS[other] for other in conflicts), mode


# one lock acquisition per table per phase


def _guarded(text: str, guard: str | None = "SELECT true", **kwargs: object) -> Step:
    return _step(text, skip_if=sql.SQL(guard) if guard else None, **kwargs)


def test_consecutive_catalog_only_steps_on_one_table_merge_in_order() -> None:
    a = _guarded("ALTER TABLE s.t ADD COLUMN a int", "SELECT 1 = 1")
    b = _guarded("ALTER TABLE s.t ADD COLUMN b int", "SELECT 2 = 2")
    c = _guarded("ALTER TABLE s.t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", "SELECT 3 = 3")
    [group] = group_steps([a, b, c])
    assert group.parts == (a, b, c)
    assert step_locks(group) == ((("s", "t"),), ACCESS_EXCLUSIVE)
    assert group.skip_if is not None
    assert group.skip_if.as_string(None) == (
        "SELECT coalesce((SELECT 1 = 1), false) AND coalesce((SELECT 2 = 2), false) AND coalesce((SELECT 3 = 3), false)"
    )
    assert group.description.startswith("on s.t, under one lock: ")


def test_a_part_without_guard_leaves_the_group_without_one() -> None:
    [group] = group_steps([_guarded("ALTER TABLE s.t ADD COLUMN a int"), _guarded("ALTER TABLE s.t DROP x", None)])
    assert group.skip_if is None and len(group.parts) == 2


def test_what_does_not_merge() -> None:
    t1 = _guarded("ALTER TABLE s.t ADD COLUMN a int")
    other = _guarded("ALTER TABLE s.u ADD COLUMN a int")
    trigger = _guarded("CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()", lock=SRE_LABEL)
    validate = _guarded("ALTER TABLE s.t VALIDATE CONSTRAINT c", lock=SUE_LABEL)
    concurrently = _guarded("CREATE INDEX CONCURRENTLY i ON s.t (a)", lock=CIC_LABEL, transactional=False)
    view = _guarded("CREATE VIEW v.t AS SELECT a FROM s.t", lock=NO_TABLE_LOCK)
    fk_drop = _guarded("ALTER TABLE s.t DROP CONSTRAINT fk", tables=(("s", "t"), ("s", "p")))
    for between in (other, trigger, validate, concurrently, view, fk_drop):
        # a step of another kind between two on s.t keeps them apart: the planned order holds
        assert group_steps([t1, between, t1]) == [t1, between, t1]
    assert group_steps([t1]) == [t1]
    assert group_steps([]) == []
    # the first two merge, the third (another table) stays, the last two merge
    out = group_steps([t1, t1, other, t1, t1])
    assert [len(s.parts) for s in out] == [2, 0, 2]


def test_real_plan_groups_expand_and_contract_per_table() -> None:
    m = migration(add_column("users", "email_lower", nullable=False), add_column("users", "name_lower", up="email"))
    plan = build_plan(m, catalog(users()), None)
    expand = group_steps(plan.expand_steps())
    [hidden] = [s for s in expand if s.parts and "add hidden column _ls_new_email_lower" in s.description]
    assert [p.description for p in hidden.parts] == [
        "add hidden column _ls_new_email_lower (text) to users",
        "add hidden column _ls_new_name_lower (text) to users",
        "add row marker _ls_written_by to users (constant default: no rewrite)",
    ]
    contract = group_steps(plan.contract_steps())
    assert len(contract) < len(plan.contract_steps())
    # nothing lost, nothing reordered
    flat = [p for s in contract for p in (s.parts or (s,))]
    assert flat == plan.contract_steps()
