from liveshift.expressions import columns_read


def test_plain_and_function_arguments() -> None:
    assert columns_read("lower(email)") == {"email"}
    assert columns_read("amount::bigint * 100 + fee") == {"amount", "fee"}


def test_constants_read_nothing() -> None:
    assert columns_read("'x' || 1") == frozenset()
    assert columns_read("now()") == frozenset()


def test_quoted_and_qualified_names() -> None:
    assert columns_read('"Note" || t.other') == {"Note", "other"}


def test_case_and_subquery_references_count() -> None:
    expr = "CASE WHEN a > 0 THEN (SELECT max(b) FROM other o WHERE o.id = c) END"
    assert columns_read(expr) == {"a", "b", "id", "c"}


def test_star_and_garbage_cannot_be_told() -> None:
    assert columns_read("row_to_json(t.*)::text") is None
    assert columns_read("1) ; DROP TABLE x; SELECT (1") is None
    assert columns_read("lower(") is None
