"""liveshift lint against squawk on tests/data/lint_corpus: statement by statement, over the hazards both name.

`python -m tests.harness.squawk_agreement` prints the table docs/lint.md carries; tests/unit/test_lint_corpus.py
asserts the numbers and every disagreement are the ones documented there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from liveshift.sqlconvert.lint import lint_file

CORPUS = Path(__file__).resolve().parents[1] / "data" / "lint_corpus"
SQUAWK = Path(sys.executable).parent / "squawk"

# squawk rules about style or robustness rather than locks, rewrites, scans or breaking clients: outside the
# comparison (liveshift runs every step idempotently with its own timeouts, so these do not apply to it)
NOT_COMPARED = {
    "prefer-robust-stmts",
    "require-statement-timeout",
    "prefer-identity",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-text-field",
    "prefer-timestamptz",
    "prefer-timestamp-tz",  # its name in squawk 2.x
    "ban-char-field",
}


@dataclass(frozen=True)
class Verdict:
    file: str
    line: int
    statement: str
    liveshift: frozenset[str]
    squawk: frozenset[str]

    @property
    def agrees(self) -> bool:
        return self.liveshift == self.squawk


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.sql"))


def squawk_findings(files: list[Path]) -> list[dict]:
    done = subprocess.run(
        [str(SQUAWK), "--reporter", "json", *map(str, files)], capture_output=True, text=True, timeout=60
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"squawk failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout or "[]")


def verdicts() -> tuple[list[Verdict], set[str]]:
    """Per corpus statement, both tools' compared codes; and the squawk rules seen but not compared."""
    files = corpus_files()
    by_file: dict[str, list[dict]] = {}
    for finding in squawk_findings(files):
        by_file.setdefault(Path(finding["file"]).name, []).append(finding)
    out, ignored = [], set()
    for path in files:
        for report in lint_file(str(path)):
            squawk = set()
            for finding in by_file.get(path.name, []):
                if report.line <= finding["line"] + 1 <= report.end_line:  # squawk's lines count from 0
                    if finding["rule_name"] in NOT_COMPARED:
                        ignored.add(finding["rule_name"])
                    else:
                        squawk.add(finding["rule_name"])
            mine = frozenset(f.code for f in report.findings)
            out.append(Verdict(path.name, report.line, report.statement, mine, frozenset(squawk)))
    return out, ignored


def documented() -> dict[str, dict]:
    return yaml.safe_load((CORPUS / "disagreements.yaml").read_text())


def summary(results: list[Verdict]) -> str:
    agree = sum(v.agrees for v in results)
    flagged = [v for v in results if v.liveshift or v.squawk]
    return (
        f"{agree} of {len(results)} statements agree; of the {len(flagged)} statements at least one tool flags, "
        f"{sum(v.agrees for v in flagged)} agree"
    )


def markdown(results: list[Verdict]) -> str:
    reasons = documented()
    lines = [summary(results) + ".", "", "| statement | only liveshift | only squawk | why |", "|---|---|---|---|"]
    for v in results:
        if not v.agrees:
            ours = ", ".join(sorted(v.liveshift - v.squawk)) or "—"
            theirs = ", ".join(sorted(v.squawk - v.liveshift)) or "—"
            why = reasons.get(f"{v.file}:{v.line}", {}).get("reason", "UNDOCUMENTED")
            lines.append(f"| `{v.file}:{v.line}` `{v.statement}` | {ours} | {theirs} | {why} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(verdicts()[0]))
