"""Which `up`/`down` pairs are plain casts there and back that lose nothing (expressions/casts.py)."""

from __future__ import annotations

import pytest

from liveshift.expressions.casts import lossless, round_trips


@pytest.mark.parametrize(
    ("up", "down", "old", "new"),
    [
        ("id::bigint", "id::integer", ("id", "integer"), ("id", "bigint")),
        ("id", "id", ("id", "int4"), ("id", "int8")),
        ("CAST(id AS pg_catalog.int8)", "CAST(id AS int)", ("id", "integer"), ("id", "bigint")),
        ("id::integer::bigint", "id::integer", ("id", "smallint"), ("id", "bigint")),
        ("email::text", "email::varchar(50)", ("email", "varchar(50)"), ("email", "text")),
        ("code::varchar(20)", "code", ("code", "character varying(10)"), ("code", "varchar(20)")),
        ("price::numeric(12,2)", "price::numeric(10,2)", ("price", "numeric(10,2)"), ("price", "numeric(12,2)")),
        ("n", "x::integer", ("n", "integer"), ("x", "bigint")),  # a rename with the change
    ],
)
def test_round_trips(up: str, down: str, old: tuple[str, str], new: tuple[str, str]) -> None:
    assert round_trips(up, down, old, new)


@pytest.mark.parametrize(
    ("up", "down", "old", "new"),
    [
        ("id / 2", "id * 2", ("id", "integer"), ("id", "bigint")),  # computed
        ("(id + 0)::bigint", "id::integer", ("id", "integer"), ("id", "bigint")),
        ("id::bigint", "id::smallint", ("id", "integer"), ("id", "bigint")),  # down narrows past the old type
        ("email::varchar(10)", "email", ("email", "varchar(50)"), ("email", "text")),  # cuts on the way
        ("amount::numeric", "amount::integer", ("amount", "integer"), ("amount", "numeric(5,2)")),
        ("v::bigint", "v::integer", ("v", "bigint"), ("v", "integer")),  # a narrowing
        ("other::bigint", "id::integer", ("id", "integer"), ("id", "bigint")),  # another column
        ("id::bigint", "lower(id)", ("id", "integer"), ("id", "bigint")),
        ("id::bigint, 1", "id::integer", ("id", "integer"), ("id", "bigint")),  # not one expression
        ("id::", "id::integer", ("id", "integer"), ("id", "bigint")),  # does not parse
    ],
)
def test_not_round_trips(up: str, down: str, old: tuple[str, str], new: tuple[str, str]) -> None:
    assert not round_trips(up, down, old, new)


def test_lossless() -> None:
    assert lossless("varchar(10)", "varchar")
    assert lossless("numeric(10,2)", "numeric")
    assert not lossless("numeric(10,2)", "numeric(12,3)")  # another scale rounds differently
    assert not lossless("varchar", "varchar(10)")
    assert not lossless("timestamp", "timestamptz")  # a local time in a DST gap meets another
