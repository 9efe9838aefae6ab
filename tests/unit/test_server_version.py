"""Servers older than PostgreSQL 13 are refused with their version named; 13 and later pass."""

from __future__ import annotations

import pytest

from liveshift.catalog import Catalog, Column, Table
from liveshift.errors import SpecError
from liveshift.plan import build_plan
from liveshift.preflight.server import check_features, check_version, describe
from liveshift.spec import parse_migration


def test_describes_versions_as_people_write_them() -> None:
    assert describe(150018) == "15.18"
    assert describe(130000) == "13.0"


@pytest.mark.parametrize("version_num", [90624, 110022, 120020])
def test_older_than_13_is_refused_naming_the_version_and_the_file(version_num: int) -> None:
    with pytest.raises(SpecError) as refused:
        check_version(version_num, file="m.yaml")
    message = str(refused.value)
    assert message.startswith("m.yaml: PostgreSQL ")
    assert describe(version_num) in message and "needs PostgreSQL 13.0 or later" in message


@pytest.mark.parametrize("version_num", [130000, 150018, 180001])
def test_13_and_later_pass(version_num: int) -> None:
    check_version(version_num)


def test_a_virtual_generated_column_is_refused_before_18_naming_the_field() -> None:
    catalog = Catalog(schema_name="public", tables={"t": Table(name="t", columns=[Column(name="a", type="int")])})
    virtual = {"name": "v", "type": "int", "generated": {"expression": "a * 2", "stored": False}}
    ops = [{"op": "create_table", "table": "u", "columns": [{"name": "a", "type": "int"}, virtual]}]
    plan = build_plan(parse_migration({"name": "m", "operations": ops}, file="m.yaml"), catalog, None)
    with pytest.raises(SpecError) as refused:
        check_features(plan, 150018, file="m.yaml")
    assert (refused.value.index, refused.value.field) == (0, "columns[1].generated.stored")
    assert "needs PostgreSQL 18 or later; this server is 15.18" in str(refused.value)
    check_features(plan, 180001)
