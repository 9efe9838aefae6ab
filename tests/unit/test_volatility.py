"""The functions an expression calls, as the volatility lookup names them (issue 20): pure."""

from __future__ import annotations

from liveshift.expressions.volatility import called_functions, is_volatile


def test_calls_are_found_by_the_parser() -> None:
    assert called_functions("CASE WHEN id % 2 = 0 THEN clock_timestamp() END") == {("pg_catalog", "clock_timestamp")}
    assert called_functions("public.next_code(lower(x)) || 'random()'") == {
        ("public", "next_code"),
        ("pg_catalog", "lower"),
    }
    assert called_functions("(SELECT max(n) FROM t)") == {("pg_catalog", "max")}
    assert called_functions("id % 1000") == set()
    assert called_functions("not ( parsable") == set()


def test_volatile_when_it_calls_a_recorded_volatile_function() -> None:
    recorded = [("pg_catalog", "gen_random_uuid"), ("public", "next_code")]
    assert is_volatile("gen_random_uuid()", recorded)
    assert is_volatile("public.next_code()::text", recorded)
    assert not is_volatile("lower(email)", recorded)
    assert not is_volatile("'gen_random_uuid()'", recorded)  # a string, not a call
