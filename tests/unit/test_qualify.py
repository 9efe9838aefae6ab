"""Names of the migration's schema in up/down are qualified for the pinned search_path (issue 20): pure."""

from __future__ import annotations

import pytest

from liveshift.expressions.qualify import SchemaNames, qualify

NAMES = SchemaNames(relations=["teams", "x"], types=["mood", "teams"], functions=["slugify"])


@pytest.mark.parametrize(
    ("expression", "qualified"),
    [
        ("m::mood", "CAST(m AS app.mood)"),
        ("CAST(m AS mood[])", "CAST(m AS app.mood[])"),
        ("(SELECT name FROM teams WHERE teams.id = team_id)", "(SELECT name FROM app.teams WHERE teams.id = team_id)"),
        ("slugify(title) || lower(title)", "app.slugify(title) || lower(title)"),
        (
            "(WITH x AS (SELECT 1 AS a) SELECT a FROM x, teams)",
            "(WITH x AS (SELECT 1 AS a) SELECT a FROM x, app.teams)",
        ),
        ('"Slugify"(title)', '"Slugify"(title)'),  # another name: PostgreSQL folds only unquoted names
        ("other.slugify(title)", "other.slugify(title)"),
    ],
)
def test_names_of_the_schema_are_qualified(expression: str, qualified: str) -> None:
    assert qualify(expression, "app", NAMES) == qualified


@pytest.mark.parametrize(
    "expression",
    ["id % 1000 || '%s {}'", "lower(title)::text", "teams", "m::text", "not ( an expression", "1; SELECT 2"],
)
def test_what_needs_nothing_is_kept_as_written(expression: str) -> None:
    assert qualify(expression, "app", NAMES) == expression


def test_without_recorded_names_nothing_changes() -> None:
    assert qualify("m::mood", "app", SchemaNames()) == "m::mood"


def test_a_schema_name_that_needs_quotes() -> None:
    assert qualify("m::mood", "My App", NAMES) == 'CAST(m AS "My App".mood)'
