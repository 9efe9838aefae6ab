"""The drift report's pure parts (liveshift/fleet/drift.py, cli/commands/fleet_drift.py): what differs between
two fingerprints, members grouped by where they are, the JSON and the tables `liveshift fleet drift` prints. On
real PostgreSQL: tests/integration/test_fleet_drift.py."""

from __future__ import annotations

import io

from liveshift.cli.commands.fleet_drift import PROBLEMS, drift_tables, report_json
from liveshift.cli.render import console
from liveshift.fleet.drift import MAX_CHANGES, NO_VERSION, DriftReport, MemberDrift, ObjectChange, changes


def test_changes_name_each_object_added_removed_or_changed_in_order() -> None:
    recorded = {"column a.x": "1", "index a_x_idx": "2", "view v": "3"}
    now = {"column a.x": "9", "view v": "3", "trigger a.t": "4"}
    assert changes(recorded, now) == [
        ObjectChange(object="column a.x", change="changed"),
        ObjectChange(object="index a_x_idx", change="removed"),
        ObjectChange(object="trigger a.t", change="added"),
    ]
    assert changes(now, dict(now)) == []


def member(key: str, **fields: object) -> MemberDrift:
    return MemberDrift.model_validate({"key": key, "schema_name": "public", "state": "matches", **fields})


REPORT = DriftReport(
    members=[
        member("a", last_migration="m2", last_file="002_b.yaml", files_applied=2),
        member("b", last_migration="m1"),
        member(
            "c",
            last_migration="m1",
            state="drifted",
            changes=[ObjectChange(object="column accounts.plan", change="changed")],
        ),
        member("d", state="unreachable", error='database "d" does not exist'),
    ]
)


def test_members_are_grouped_by_the_file_else_the_migration_they_are_at() -> None:
    assert REPORT.by_version() == {"002_b.yaml": ["a"], NO_VERSION: ["d"], "m1": ["b", "c"]}
    assert [m.key for m in REPORT.drifted()] == ["c"]


def test_the_json_has_groups_drifted_members_and_each_members_fields() -> None:
    out = report_json(REPORT)
    assert out["drifted"] == ["c"] and out["by_version"] == REPORT.by_version()
    members = out["members"]
    assert isinstance(members, list) and members[2]["at"] == "m1"
    assert members[2]["changes"] == [{"object": "column accounts.plan", "change": "changed"}]
    assert DriftReport.model_validate({"members": members}) == REPORT  # `at` is derived, read back as it was


def test_the_tables_name_the_members_and_what_differs() -> None:
    buffer = io.StringIO()
    out = console(buffer)
    for table in drift_tables(REPORT):
        out.print(table)
    text = buffer.getvalue()
    assert "002_b.yaml" in text and "b c" in text
    assert "changed column accounts.plan" in text and 'database "d" does not exist' in text
    assert {m.state for m in REPORT.members} & PROBLEMS == {"drifted", "unreachable"}


def test_a_long_list_of_changes_is_cut_and_counted() -> None:
    many = member(
        "e",
        state="drifted",
        changes=[ObjectChange(object=f"index i{n:02d}", change="added") for n in range(MAX_CHANGES)],
        changed_objects=MAX_CHANGES + 7,
    )
    buffer = io.StringIO()
    for table in drift_tables(DriftReport(members=[many])):
        console(buffer).print(table)
    assert "added index i00" in buffer.getvalue() and "and 7 more" in buffer.getvalue()
