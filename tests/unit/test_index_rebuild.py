"""An index rebuilt on a swapped column from pg_get_indexdef's text keeps every option (issue 20): pure, no database."""

from __future__ import annotations

import pytest

from liveshift.operations.index_rebuild import rebuilt_index


def _rebuilt(definition: str, tablespace: str | None = None) -> str | None:
    return rebuilt_index(definition, "app", "T", "_ls_ix_i", "a", "_ls_new_a", tablespace)


@pytest.mark.parametrize(
    ("definition", "rebuilt"),
    [
        ("CREATE INDEX i ON public.t USING btree (a)", 'ON app."T" (_ls_new_a)'),
        ("CREATE INDEX i ON public.t USING btree (a varchar_pattern_ops)", "(_ls_new_a varchar_pattern_ops)"),
        ("CREATE INDEX i ON public.t USING btree (a DESC NULLS LAST, b)", "(_ls_new_a DESC NULLS LAST, b)"),
        ('CREATE INDEX i ON public.t USING btree (a COLLATE "C")', '(_ls_new_a COLLATE "C")'),
        ("CREATE INDEX i ON public.t USING btree (b) INCLUDE (a)", "(b) INCLUDE (_ls_new_a)"),
        ("CREATE INDEX i ON public.t USING btree (a) WITH (fillfactor='70')", "WITH (fillfactor = '70')"),
        (
            "CREATE INDEX i ON public.t USING gin (a) WITH (fastupdate=off)",
            "USING gin (_ls_new_a) WITH (fastupdate = off)",
        ),
        ("CREATE UNIQUE INDEX i ON public.t USING btree (a) NULLS NOT DISTINCT", "(_ls_new_a) NULLS NOT DISTINCT"),
        ("CREATE INDEX i ON public.t USING btree (b) WHERE ((a)::text <> '%s'::text)", "WHERE CAST(_ls_new_a AS text)"),
        ("CREATE INDEX i ON public.t USING btree (b) WHERE (t.a > 0)", "WHERE t._ls_new_a > 0"),
        ("CREATE INDEX i ON public.t USING gist (a gist_trgm_ops (siglen='32'))", "gist_trgm_ops (siglen = '32')"),
    ],
)
def test_every_option_is_kept(definition: str, rebuilt: str) -> None:
    text = _rebuilt(definition)
    assert text is not None
    assert text.startswith("CREATE ") and ' INDEX CONCURRENTLY IF NOT EXISTS _ls_ix_i ON app."T" ' in text, text
    assert rebuilt in text, text


def test_unique_and_tablespace() -> None:
    text = _rebuilt("CREATE UNIQUE INDEX i ON public.t USING btree (a)", "fast disks")
    assert (
        text == 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS _ls_ix_i ON app."T" (_ls_new_a) TABLESPACE "fast disks"'
    )


def test_other_columns_are_untouched() -> None:
    assert _rebuilt('CREATE INDEX i ON public.t USING btree (ab, b) WHERE ("A" > 0)') == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS _ls_ix_i ON app."T" (ab, b) WHERE "A" > 0'
    )


@pytest.mark.parametrize("definition", ["not sql", "CREATE TABLE t (a int)", "CREATE INDEX i ON t (a); SELECT 1"])
def test_what_is_not_one_create_index_is_none(definition: str) -> None:
    assert _rebuilt(definition) is None
