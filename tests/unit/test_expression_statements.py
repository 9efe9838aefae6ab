"""Statements that carry a user expression hold their values as literals: a `%` of the expression (an operator,
or in a string) is never read as a client-side placeholder, nor `{}` as a format field (issue 20)."""

from __future__ import annotations

import pytest
from psycopg import sql

from liveshift.backfill.batches import marking_update
from liveshift.backfill.blocks import block_range
from liveshift.backfill.keyset import batch_update_statement
from liveshift.catalog import Column
from liveshift.operations.base import Transform, VerifyCheck
from liveshift.plan import BackfillTarget
from liveshift.verify import chunk_statement, row_ok_expression

EXPRESSION = "id % 1000 || '%s %(x)s {} {0}'"
COLUMNS = (Column(name="id", type="bigint", nullable=False), Column(name="code", type="text"))
UP = Transform("up", "items", "_ls_new_code", "text", EXPRESSION, COLUMNS, 0)
DOWN = Transform("down", "items", "code", "text", EXPRESSION, COLUMNS, 0, "down")
CHECK = VerifyCheck("items", "check", f"({EXPRESSION}) <> ''", COLUMNS)


def _target(key: tuple[str, ...]) -> BackfillTarget:
    return BackfillTarget("items", key, ("bigint",) * len(key), (UP,), direct=True)


def _statements() -> dict[str, sql.Composable]:
    ok = row_ok_expression([UP, DOWN], [CHECK])
    keyless = _target(())
    return {
        "keyset batch": batch_update_statement("public", _target(("id",)), [7], [99], direct=True),
        "first keyset batch": batch_update_statement("public", _target(("id",)), None, [99], direct=True),
        "block batch": marking_update("public", keyless, block_range(3, 7), direct=True),
        "verify chunk": chunk_statement("public", _target(("id",)), ok, 0, 128),
        "last verify chunk": chunk_statement("public", keyless, ok, 128, None),
    }


@pytest.mark.parametrize("name", list(_statements()))
def test_values_are_literals_and_the_expression_is_verbatim(name: str) -> None:
    text = _statements()[name].as_string(None)
    assert EXPRESSION in text
    # nothing but the expression's own text holds a `%`: the statement runs without client-side parameters
    assert "%" not in text.replace(EXPRESSION, ""), text


def test_bounds_are_in_the_statement() -> None:
    statements = _statements()
    assert "CAST('7' AS bigint)" in statements["keyset batch"].as_string(None)
    assert "CAST('(3,0)' AS tid) AND _ls_r.ctid < CAST('(7,0)' AS tid)" in statements["block batch"].as_string(None)
    assert ">= CAST('(0,0)' AS tid) AND _ls_r.ctid < CAST('(128,0)' AS tid)" in statements["verify chunk"].as_string(
        None
    )
