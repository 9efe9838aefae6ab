"""Naming a fleet's members (liveshift/fleet/members.py) from targets, a pattern and schemas; the [fleets] table
of the configuration. The member query runs on real PostgreSQL: tests/integration/test_fleet_members.py."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from liveshift.errors import SpecError
from liveshift.fleet.members import Member, MemberSelector, key_part, member_dsn, resolve
from liveshift.worker.config import load_settings

TARGETS = ["shard2", "shard1", "shard10", "app", "analytics"]


def no_connection(target: str) -> psycopg.Connection:
    raise AssertionError(f"a selector without a query must not connect (asked for {target})")


def keys(selector: MemberSelector) -> list[str]:
    return [m.key for m in resolve(no_connection, TARGETS, selector)]


def test_a_list_of_targets_is_one_member_each_sorted_by_key() -> None:
    members = resolve(no_connection, TARGETS, MemberSelector(targets=["shard2", "shard1"]))
    assert members == [Member(key="shard1", target="shard1"), Member(key="shard2", target="shard2")]


def test_a_pattern_matches_configured_target_names() -> None:
    assert keys(MemberSelector(pattern="shard*")) == ["shard1", "shard10", "shard2"]
    assert keys(MemberSelector(pattern="shard?")) == ["shard1", "shard2"]


def test_schemas_make_one_member_per_schema_of_each_target() -> None:
    members = resolve(no_connection, TARGETS, MemberSelector(targets=["app"], schemas=["tenant_b", "tenant_a"]))
    assert [(m.key, m.target, m.schema_name) for m in members] == [
        ("app/tenant_a", "app", "tenant_a"),
        ("app/tenant_b", "app", "tenant_b"),
    ]
    assert keys(MemberSelector(pattern="shard?", schemas=["s"])) == ["shard1/s", "shard2/s"]


def test_the_order_does_not_depend_on_the_selector_or_configuration_order() -> None:
    one = resolve(no_connection, TARGETS, MemberSelector(targets=["shard2", "app", "shard1"]))
    other = resolve(no_connection, list(reversed(TARGETS)), MemberSelector(targets=["shard1", "shard2", "app"]))
    assert one == other


@pytest.mark.parametrize(
    ("selector", "field", "words"),
    [
        (MemberSelector(targets=["shard1", "nope"]), "targets", "unknown target 'nope'"),
        (MemberSelector(pattern="eu-*"), "pattern", "matches no configured target"),
        (MemberSelector(targets=["shard1", "shard1"]), "members", "two members have the key 'shard1'"),
        (MemberSelector(targets=["app"], schemas=["a", "a"]), "members", "'app/a'"),
    ],
)
def test_bad_selections_are_refused_naming_the_field(selector: MemberSelector, field: str, words: str) -> None:
    with pytest.raises(SpecError) as refused:
        resolve(no_connection, TARGETS, selector)
    assert refused.value.field == field
    assert words in str(refused.value)


def test_a_selector_names_its_members_one_way() -> None:
    with pytest.raises(ValidationError, match="exactly one of targets, pattern or query"):
        MemberSelector(targets=["app"], pattern="shard*")
    with pytest.raises(ValidationError, match="exactly one of targets, pattern or query"):
        MemberSelector()
    with pytest.raises(ValidationError, match="schemas go with targets or pattern"):
        MemberSelector(query={"target": "app", "sql": "SELECT 'x'"}, schemas=["s"])


def test_keys_are_safe_and_distinct_for_unusual_names() -> None:
    assert key_part("tenant_042") == "tenant_042"
    odd = [key_part(n) for n in ("a b", "a/b", "a_b", "ünïcode", "x" * 80)]
    assert len(set(odd)) == len(odd)
    assert all(part.replace("-", "").replace("_", "").replace(".", "").isalnum() for part in odd)
    assert key_part("a b") == key_part("a b")  # stable


def test_member_dsn_overrides_only_the_database() -> None:
    base = "postgresql://liveshift@db:5432/app?sslmode=require"
    assert member_dsn(base, Member(key="app", target="app")) == base
    dsn = psycopg.conninfo.conninfo_to_dict(member_dsn(base, Member(key="t/x", target="app", database="tenant x")))
    assert dsn == {"user": "liveshift", "host": "db", "port": "5432", "dbname": "tenant x", "sslmode": "require"}


def test_fleets_are_named_in_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LIVESHIFT_CONFIG", "LIVESHIFT_FLEETS"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "liveshift.toml"
    config.write_text(
        '[targets]\nshard1 = "postgresql://db1/app"\n'
        '[fleets.shards]\npattern = "shard*"\n'
        '[fleets.tenants.query]\ntarget = "shard1"\nkind = "schema"\n'
        "sql = \"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant%'\"\n"
    )
    settings = load_settings(config)
    assert settings.fleet("shards") == MemberSelector(pattern="shard*")
    tenants = settings.fleet("tenants").query
    assert tenants is not None and tenants.kind == "schema" and tenants.target == "shard1"
    with pytest.raises(SpecError, match="unknown fleet 'eu': configured are shards, tenants"):
        settings.fleet("eu")


def test_a_bad_fleet_in_the_configuration_names_the_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "liveshift.toml"
    config.write_text('[fleets.shards]\npattern = "shard*"\ntargets = ["a"]\n')
    with pytest.raises(SpecError) as refused:
        load_settings(config)
    assert str(config) in str(refused.value) and refused.value.field == "fleets.shards"
