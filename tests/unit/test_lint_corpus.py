"""liveshift lint against squawk (squawk-cli) on the corpus: the agreement and every disagreement are documented."""

from __future__ import annotations

from pathlib import Path

from tests.harness.squawk_agreement import documented, summary, verdicts

DOCS = Path(__file__).parents[2] / "docs" / "lint.md"


def test_corpus_has_at_least_50_statements() -> None:
    results, _ = verdicts()
    assert len(results) >= 50
    assert sum(bool(v.liveshift) for v in results) >= 30  # most of the corpus is hazards, not filler


def test_every_disagreement_is_documented_with_its_reason() -> None:
    results, _ = verdicts()
    actual = {
        f"{v.file}:{v.line}": (sorted(v.liveshift - v.squawk), sorted(v.squawk - v.liveshift))
        for v in results
        if not v.agrees
    }
    expected = {key: (sorted(d["liveshift"]), sorted(d["squawk"])) for key, d in documented().items()}
    assert actual == expected
    assert all(d["reason"].strip() for d in documented().values())


def test_docs_report_the_measured_agreement_and_each_disagreement() -> None:
    results, _ = verdicts()
    text = " ".join(DOCS.read_text().split())
    assert summary(results) in text
    for key in documented():
        assert f"`{key}`" in text


def test_style_rules_left_out_are_only_those_squawk_raised() -> None:
    _, ignored = verdicts()
    assert "prefer-robust-stmts" in ignored  # the exclusion is doing something on this corpus
