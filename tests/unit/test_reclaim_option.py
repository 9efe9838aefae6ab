"""`--reclaim-every` (free-space reuse during the backfill) reaches the migration's throttle; `plan` takes it too."""

from __future__ import annotations

import pytest

from liveshift.cli.commands.start import options_from
from liveshift.cli.main import build_parser
from liveshift.values import Throttle


def test_start_sets_the_interval_and_defaults_to_five_percent() -> None:
    parser = build_parser()
    given = parser.parse_args(["start", "m.yaml", "--target", "app", "--reclaim-every", "0.1"])
    assert options_from(given).throttle.reclaim_every == 0.1
    assert options_from(parser.parse_args(["start", "m.yaml", "--target", "app"])).throttle.reclaim_every == 0.05
    assert Throttle().reclaim_every == 0.05
    never = parser.parse_args(["start", "m.yaml", "--target", "app", "--reclaim-every", "0"])
    assert options_from(never).throttle.reclaim_every == 0


@pytest.mark.parametrize("value", ["2", "-0.1", "often"])
def test_a_value_outside_zero_to_one_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["start", "m.yaml", "--target", "app"], ["plan", "m.yaml"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args([*command, "--reclaim-every", value])
        assert "--reclaim-every" in capsys.readouterr().err
