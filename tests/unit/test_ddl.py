"""The safe DDL executor: backoff with full jitter; which tables and mode a step locks (declared, and as pglast
reads SQL); grouping steps."""

from __future__ import annotations

import random

import pytest
from psycopg import sql

from liveshift.ddl.executor import backoff_delay, lock_of
from liveshift.ddl.grouping import group_steps
from liveshift.ddl.locks import (
    ACCESS_EXCLUSIVE,
    CONFLICTS,
    MODES,
    NO_TABLE_LOCK,
    SHARE_ROW,
    SHARE_UPDATE,
    Lock,
    read_lock,
    stalls_applications,
    statement_locks,
)
from liveshift.ddl.steps import Step
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


ST = (("s", "t"),)
ON_ST = Lock(ACCESS_EXCLUSIVE, ST)


def _step(text: str, lock: Lock | None = ON_ST, **kwargs: object) -> Step:
    return Step(text[:40], sql.SQL(text), lock, **kwargs)  # type: ignore[arg-type]


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


def test_read_lock() -> None:
    assert read_lock("ALTER TABLE s.t ADD COLUMN x int") == ON_ST
    assert read_lock("ALTER TABLE s.t DROP COLUMN x") == Lock(ACCESS_EXCLUSIVE, ST, linked=True)
    assert read_lock("CREATE INDEX CONCURRENTLY i ON s.t (a)") == Lock(SHARE_UPDATE, ST, concurrently=True)
    # an index's table is not in its SQL
    assert read_lock("DROP INDEX CONCURRENTLY s.i") == Lock(None, concurrently=True)
    assert read_lock("DO $$ BEGIN ALTER TABLE s.t ADD COLUMN x int; END $$") == NO_TABLE_LOCK
    assert read_lock("not SQL at all") == NO_TABLE_LOCK


def test_the_executor_uses_the_declared_lock_and_reads_only_raw_sql() -> None:
    # a DO block: its builder declares what the SQL does not say
    assert lock_of(_step("DO $$ BEGIN END $$")) == ON_ST
    both = _step("ALTER TABLE s.t DROP CONSTRAINT fk", Lock(ACCESS_EXCLUSIVE, (*ST, ("s", "p")), linked=True))
    assert lock_of(both).tables == (("s", "t"), ("s", "p"))
    # the user's raw SQL declares nothing: what pglast reads, or nothing it knows of
    assert lock_of(_step("ALTER TABLE s.t ADD COLUMN x int", None)) == ON_ST
    assert lock_of(_step("DO $$ BEGIN END $$", None)) == NO_TABLE_LOCK
    assert stalls_applications(ACCESS_EXCLUSIVE) and stalls_applications(SHARE_ROW)
    assert not stalls_applications(SHARE_UPDATE) and not stalls_applications(None)
    # a lock on no application table (an index's own) makes no application statement queue
    assert ON_ST.stalls_applications and not Lock(ACCESS_EXCLUSIVE).stalls_applications


def test_labels_render_from_the_lock() -> None:
    """What `liveshift plan` prints for each lock a builder declares (docs/operations.md lists them)."""
    assert ON_ST.label == "ACCESS EXCLUSIVE (catalog only, brief)"
    assert Lock(ACCESS_EXCLUSIVE, ST, by="DROP TRIGGER").label == "ACCESS EXCLUSIVE (brief: DROP TRIGGER)"
    assert Lock(SHARE_ROW, ST).label == "SHARE ROW EXCLUSIVE (brief)"
    assert Lock(SHARE_UPDATE, ST).label == "SHARE UPDATE EXCLUSIVE (reads and writes continue)"
    concurrently = "SHARE UPDATE EXCLUSIVE, CONCURRENTLY (reads and writes continue)"
    assert Lock(SHARE_UPDATE, ST, concurrently=True).label == concurrently
    assert NO_TABLE_LOCK.label == "none on application tables"
    raw = _step("SELECT 1", None)
    assert raw.label == "unknown: raw SQL, not checked" and raw.unchecked
    assert [Lock(m).label for m in MODES[:3]] == ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE"]


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
    assert group.lock == ON_ST
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
    other = _guarded("ALTER TABLE s.u ADD COLUMN a int", lock=Lock(ACCESS_EXCLUSIVE, (("s", "u"),)))
    trigger = _guarded(
        "CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()", lock=Lock(SHARE_ROW, ST)
    )
    triggers = _guarded("DROP TRIGGER IF EXISTS tr ON s.t", lock=Lock(ACCESS_EXCLUSIVE, ST, by="DROP TRIGGER"))
    validate = _guarded("ALTER TABLE s.t VALIDATE CONSTRAINT c", lock=Lock(SHARE_UPDATE, ST))
    concurrently = _guarded(
        "CREATE INDEX CONCURRENTLY i ON s.t (a)", lock=Lock(SHARE_UPDATE, ST, concurrently=True), transactional=False
    )
    view = _guarded("CREATE VIEW v.t AS SELECT a FROM s.t", lock=NO_TABLE_LOCK)
    fk_drop = _guarded(
        "ALTER TABLE s.t DROP CONSTRAINT fk", lock=Lock(ACCESS_EXCLUSIVE, (*ST, ("s", "p")), linked=True)
    )
    raw = _guarded("ALTER TABLE s.t ADD COLUMN r int", lock=None)
    for between in (other, trigger, triggers, validate, concurrently, view, fk_drop, raw):
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
    # nothing lost, nothing reordered (a table's trigger drop comes merged already with its hand-over to the
    # other in-flight versions: plan.MigrationPlan._drop_dual_write)
    flat = [p for s in contract for p in (s.parts or (s,))]
    assert flat == [p for s in plan.contract_steps() for p in (s.parts or (s,))]
