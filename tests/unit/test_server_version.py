"""Servers older than PostgreSQL 13 are refused with their version named; 13 and later pass."""

from __future__ import annotations

import pytest

from liveshift.errors import SpecError
from liveshift.preflight.server import check_version, describe


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
