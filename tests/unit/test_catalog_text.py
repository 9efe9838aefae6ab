"""catalog_text on definitions as PostgreSQL prints them (pg_get_indexdef, pg_get_constraintdef): pure, no database."""

from __future__ import annotations

import pytest

from liveshift.catalog import Constraint
from liveshift.catalog.text import check_expression, foreign_key_options, mentions


def foreign_key(definition: str) -> Constraint:
    return Constraint(name="fk", kind="foreign_key", definition=definition, columns=["a"])


def check(definition: str) -> Constraint:
    return Constraint(name="ck", kind="check", definition=definition, columns=["a"])


@pytest.mark.parametrize(
    ("definition", "options"),
    [
        ("FOREIGN KEY (a) REFERENCES t(id)", ""),
        ('FOREIGN KEY (a, "B") REFERENCES s."T"(id, "X") ON DELETE CASCADE', " ON DELETE CASCADE"),
        ("FOREIGN KEY (a) REFERENCES t(id) NOT VALID", ""),
        (
            "FOREIGN KEY (a) REFERENCES t(id) MATCH FULL ON UPDATE SET NULL ON DELETE SET DEFAULT DEFERRABLE "
            "INITIALLY DEFERRED",
            " MATCH FULL ON UPDATE SET NULL ON DELETE SET DEFAULT DEFERRABLE INITIALLY DEFERRED",
        ),
        ("FOREIGN KEY (a) REFERENCES t(id) ON UPDATE RESTRICT DEFERRABLE", " ON UPDATE RESTRICT DEFERRABLE"),
        ("FOREIGN KEY (a, b) REFERENCES t(id, c) ON DELETE SET NULL (a)", None),
        ("FOREIGN KEY (a) REFERENCES t(id) NOT ENFORCED", None),
        ("CHECK ((a > 0))", None),
    ],
)
def test_foreign_key_options_as_postgresql_prints_them(definition: str, options: str | None) -> None:
    assert foreign_key_options(foreign_key(definition)) == options


@pytest.mark.parametrize(
    ("definition", "expression"),
    [
        ("CHECK ((a > 0))", "((a > 0))"),
        ("CHECK (((a > 0) AND (b <> 'x'::text)))", "(((a > 0) AND (b <> 'x'::text)))"),
        ("CHECK ((a > 0)) NOT VALID", "((a > 0))"),
        ("CHECK ((a > 0)) NO INHERIT", None),
        ("FOREIGN KEY (a) REFERENCES t(id)", None),
    ],
)
def test_check_expression_is_the_printed_expression(definition: str, expression: str | None) -> None:
    assert check_expression(check(definition)) == expression


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("(price * qty)", "qty", True),
        ("(price * qty)", "pri", False),
        ('("Total" > 0)', "Total", True),
        ("(t.amount IS NOT NULL)", "amount", True),
        ("('amount'::text = label)", "amount", False),  # a string literal names no column
        ("CREATE INDEX i ON public.t USING btree (lower(email))", "email", True),
        ("CREATE INDEX i ON public.t USING btree (a) WHERE (b > 0)", "b", True),
        ("CREATE INDEX i ON public.t USING btree (a) WHERE (b > 0)", "c", False),
        ("((", "a", True),  # unreadable text: taken to mention it (the swap refuses)
        (None, "a", False),
    ],
)
def test_mentions_reads_column_references(text: str | None, name: str, expected: bool) -> None:
    assert mentions(text, name) is expected
