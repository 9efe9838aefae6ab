"""liveshift lint and squawk scored against PostgreSQL on tests/data/lint_corpus_fresh (71 migration files no
other test uses): the numbers docs/lint.md gives ('A fresh corpus, measured'). A change in any verdict or
lock mode fails here until the page is updated with it (`python -m tests.harness.fresh_corpus DSN`)."""

from __future__ import annotations

import pytest

from tests.harness.fresh_corpus import score_corpus

pytestmark = pytest.mark.integration


def test_fresh_corpus_scores_are_the_documented_ones(dsn: str) -> None:
    scores = score_corpus(dsn)
    assert len(scores) == 71
    assert sum(s.truth for s in scores) == 34
    assert sum(s.liveshift == s.truth for s in scores) == 64
    assert sum(s.with_catalog == s.truth for s in scores) == 68
    assert sum(s.squawk == s.truth for s in scores) == 53
    assert (sum(s.lock_matches for s in scores), sum(s.lock_compared for s in scores)) == (84, 93)
    assert sum(s.informed_lock_matches for s in scores) == 91
