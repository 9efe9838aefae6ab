"""`--flush-each-batch` reaches the migration's throttle, for `start` and `migrate`; off by default."""

from __future__ import annotations

import pytest

from liveshift.cli.commands.start import options_from
from liveshift.cli.main import build_parser


@pytest.mark.parametrize("command", [["start", "m.yaml"], ["migrate", "migrations"]])
def test_flush_each_batch_is_off_unless_asked(command: list[str]) -> None:
    parser = build_parser()
    asked = parser.parse_args([*command, "--target", "app", "--flush-each-batch"])
    assert options_from(asked).throttle.flush_each_batch
    assert not options_from(parser.parse_args([*command, "--target", "app"])).throttle.flush_each_batch
