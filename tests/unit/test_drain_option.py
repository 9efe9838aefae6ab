"""`--drain` (how long a version's views outlive its last clients) reaches the migration's options from `start`,
`migrate` and `fleet start`; 0 is allowed (clients that never cache the flag), a negative or unitless word is not."""

from __future__ import annotations

import pytest

from liveshift.cli.commands.start import options_from
from liveshift.cli.main import build_parser

COMMANDS = (
    ["start", "m.yaml", "--target", "app"],
    ["migrate", "migrations", "--target", "app"],
    ["fleet", "start", "m.yaml", "--name", "orders", "--targets", "a,b"],
)


@pytest.mark.parametrize("command", COMMANDS)
def test_drain_reaches_the_options_and_defaults_to_five_seconds(command: list[str]) -> None:
    parser = build_parser()
    assert options_from(parser.parse_args(command)).drain_seconds == 5.0
    assert options_from(parser.parse_args([*command, "--drain", "2m"])).drain_seconds == 120.0
    assert options_from(parser.parse_args([*command, "--drain", "0"])).drain_seconds == 0.0


@pytest.mark.parametrize("value", ["-1", "soon", "5d"])
def test_a_negative_or_unreadable_drain_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*COMMANDS[0], "--drain", value])
    err = capsys.readouterr().err
    assert "--drain" in err and repr(value) in err
