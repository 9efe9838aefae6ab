"""liveshift lint and squawk scored against PostgreSQL on the seven fresh corpora (tests/data/lint_corpus_fresh,
71 files; lint_corpus_fresh2, 90 files written before reading lint's rules; lint_corpus_fresh3, lint_corpus_fresh4,
lint_corpus_fresh5 and lint_corpus_fresh7, 63 files each, and lint_corpus_fresh6, 32 files, written before reading
lint's code or the other corpora; no other test uses them): the numbers docs/lint.md gives ('Fresh corpora,
measured'), and the files whose every lock lint got right (the issue's bar counts files). A change in any verdict
or lock mode fails here until the page is updated with it (`python -m tests.harness.fresh_corpus DSN
[fresh|…|fresh7]`), and falling below 92% of verdicts and 90% of lock modes without a database (95% with
--schema or --dsn) fails as a regression."""

from __future__ import annotations

import pytest

from tests.harness.fresh_corpus import score_corpus

pytestmark = pytest.mark.integration

# files, dangerous, verdicts right: no database, --schema, --dsn, squawk; lock modes right: compared, none,
# --schema, --dsn; files with every lock right: none, --schema, --dsn
DOCUMENTED = {
    "fresh": ((71, 34), (67, 71, 71, 53), (94, 88, 94, 94), (65, 71, 71)),
    "fresh2": ((90, 31), (83, 90, 90, 71), (128, 121, 128, 128), (83, 90, 90)),
    "fresh3": ((63, 20), (61, 63, 63, 56), (121, 118, 121, 121), (60, 63, 63)),
    # blind (before lint changed for it): (61, 63, 63, 54) and (157, 149, 156, 156)
    "fresh4": ((63, 28), (61, 63, 63, 54), (157, 150, 157, 157), (57, 63, 63)),
    # blind: (60, 63, 63, 52) and (159, 144, 155, 155); (159, 146, 157, 157) once the harness knew the setup's
    # relations by oid (a renamed table, a view made anew under a setup view's name)
    # (psql's `\copy` loads no rows here, so the INSERT … SELECT after it draws nothing: the one miss with --dsn)
    "fresh5": ((63, 31), (61, 63, 63, 52), (159, 147, 158, 158), (52, 62, 62)),
    # 32 files, blind (scored before lint5's changes were merged, then after them: the same): (32, 32, 32, 25) and
    # (96, 92, 95, 94); --dsn 95 once the catalog left views and partitioned tables out of a domain's users, 96
    # with --schema and --dsn once a query locked the partitions pruning keeps
    "fresh6": ((32, 15), (32, 32, 32, 25), (96, 92, 96, 96), (29, 32, 32)),
    # blind: (60, 62, 62, 53), (165, 152, 163, 163), files (55, 61, 61); then a DROP TRIGGER IF EXISTS of a trigger
    # the catalog lacks locked nothing, the tools' own serial ids, and the harness knew a renamed table's earlier
    # locks by oid
    "fresh7": ((63, 28), (60, 62, 62, 53), (165, 156, 165, 165), (58, 63, 63)),
}


@pytest.mark.parametrize("corpus", sorted(DOCUMENTED))
def test_fresh_corpus_scores_are_the_documented_ones(dsn: str, corpus: str) -> None:
    scores = score_corpus(dsn, corpus)
    sizes = (len(scores), sum(s.truth for s in scores))
    verdicts = tuple(
        sum(getattr(s, mode) == s.truth for s in scores)
        for mode in ("liveshift", "with_schema", "with_catalog", "squawk")
    )
    locks = (
        sum(s.lock_compared for s in scores),
        sum(s.lock_matches for s in scores),
        sum(s.schema_lock_matches for s in scores),
        sum(s.informed_lock_matches for s in scores),
    )
    files = tuple(
        sum(getattr(s, mode) == s.lock_compared for s in scores)
        for mode in ("lock_matches", "schema_lock_matches", "informed_lock_matches")
    )
    assert (sizes, verdicts, locks, files) == DOCUMENTED[corpus]
    # regressions: without a database, the bar reached so far (issue 26 asks 95% of verdicts); with the catalog
    assert verdicts[0] >= 0.92 * sizes[0] and locks[1] >= 0.90 * locks[0]
    assert min(verdicts[1:3]) >= 0.95 * sizes[0] and min(locks[2:]) >= 0.95 * locks[0]
