"""A fleet's pure parts: waves, a schema member's migration, member addresses, the CLI's member syntax, the input's
refusals."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from liveshift.cli.commands.fleet import member_of
from liveshift.errors import SpecError
from liveshift.fleet.members import Member, member_dsn
from liveshift.worker.config import Settings
from liveshift.workflows.fleet_models import FleetInput, FleetStatus, MemberStatus, Waves, member_migration
from liveshift.workflows.fleet_waves import plan_waves, render
from tests.harness.apps import ADD_COLUMN
from tests.harness.db import migration

MEMBERS = [Member(key=f"m{i}", target=f"t{i}") for i in range(7)]


def test_canary_then_batches() -> None:
    assert plan_waves(MEMBERS, Waves(canary=2, batch_size=3)) == [["m0", "m1"], ["m2", "m3", "m4"], ["m5", "m6"]]
    named = plan_waves(MEMBERS, Waves(canary_keys=["m4"], batch_size=4))
    assert named == [["m4"], ["m0", "m1", "m2", "m3"], ["m5", "m6"]]
    assert plan_waves(MEMBERS[:3], Waves(canary=0, batch_size=5)) == [["m0", "m1", "m2"]]
    with pytest.raises(SpecError, match="canary members x are not members"):
        plan_waves(MEMBERS, Waves(canary_keys=["x"]))


def test_a_schema_member_migrates_its_schema_under_its_own_name() -> None:
    base = migration(ADD_COLUMN)
    assert member_migration(base, Member(key="db", target="db")) is base
    mine = member_migration(base, Member(key="app/t7", target="app", schema_name="tenant_7"))
    assert (mine.schema_name, mine.name) == ("tenant_7", "users_email_lower_tenant_7")
    odd = member_migration(base, Member(key="app/T", target="app", schema_name="Tenant-X"))
    assert odd.name.startswith("users_email_lower_tenant_x") and len(odd.name) > len("users_email_lower_tenant_x")


def test_a_member_database_on_a_target_server() -> None:
    settings = Settings(targets={"pg": SecretStr("postgresql://u@h:5432/postgres"), "a@b": SecretStr("host=x")})
    assert "dbname=tenant_42" in settings.dsn_for("pg@tenant_42")
    assert settings.dsn_for("a@b") == "host=x"  # a target named with the separator is itself
    with pytest.raises(SpecError, match="unknown target 'nope@db'"):
        settings.dsn_for("nope@db")
    assert member_dsn("host=h dbname=postgres", Member(key="k", target="pg")) == "host=h dbname=postgres"


def test_members_as_the_cli_names_them() -> None:
    assert member_of("shard1") == Member(key="shard1", target="shard1")
    assert member_of("pg@db_042") == Member(key="pg@db_042", target="pg", database="db_042")
    assert member_of("app:tenant_7") == Member(key="app:tenant_7", target="app", schema_name="tenant_7")


def test_the_input_names_its_members_once() -> None:
    base = {"name": "f", "migration": migration(ADD_COLUMN)}
    with pytest.raises(ValidationError, match="give members, a selector or a configured fleet"):
        FleetInput.model_validate(base)
    with pytest.raises(ValidationError, match="members named twice: m0"):
        FleetInput.model_validate(base | {"members": [MEMBERS[0], MEMBERS[0]]})
    with pytest.raises(ValidationError, match="canary_steps do not apply"):
        options = {"canary_steps": [50, 100], "step_seconds": 1}
        FleetInput.model_validate(base | {"members": MEMBERS, "one_flip": True, "options": options})


def test_status_summary_and_details() -> None:
    states = ["complete", "running", "failed", "pending"]
    members = [MemberStatus(member=m, state=s) for m, s in zip(MEMBERS[:4], states, strict=True)]
    status = FleetStatus(workflow_id="w", name="f", migration="x", state="halted", members=members, waves=[["m0"]])
    assert status.summary() == {"done": 1, "running": 1, "failed": 1, "pending": 1}
    text = render(status)
    assert "**halted**" in text and "- m2: **failed**" in text and "m0" not in text.split("\n", 2)[2]
