"""`liveshift lint --format`: the reports as the formats CI tools read. GitHub Actions workflow commands
(annotations on the pull request's diff), SARIF 2.1.0 (GitHub code scanning and most CI dashboards) and JSON."""

from __future__ import annotations

import json

from liveshift.sqlconvert.hazards import HAZARDS
from liveshift.sqlconvert.lint import LintFinding, StatementReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _findings(reports: list[StatementReport]) -> list[tuple[StatementReport, LintFinding]]:
    return [(r, f) for r in reports for f in r.findings]


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(reports: list[StatementReport]) -> str:
    """One `::warning` workflow command per finding: GitHub shows each on its line of the diff."""
    lines = []
    for report, f in _findings(reports):
        props = f"file={_escape_property(f.file)},line={f.line},endLine={report.end_line}"
        title = _escape_property(f"liveshift lint: {f.code}")
        body = f"{f.message}. Safely: {f.safe}"
        if report.assumed:
            body += ". Assumed: " + "; ".join(report.assumed)
        lines.append(f"::warning {props},title={title}::{_escape_data(body)}")
    return "".join(line + "\n" for line in lines)


def sarif(reports: list[StatementReport]) -> str:
    codes = sorted({f.code for _, f in _findings(reports)})
    rules = [
        {
            "id": code,
            "shortDescription": {"text": HAZARDS[code].message},
            "help": {"text": f"Safely: {HAZARDS[code].safe}"},
        }
        for code in codes
    ]
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": "warning",
            "message": {"text": f"{f.message}. Safely: {f.safe}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file},
                        "region": {"startLine": f.line, "endLine": report.end_line},
                    }
                }
            ],
        }
        for report, f in _findings(reports)
    ]
    driver = {"name": "liveshift lint", "rules": rules}
    run = {"tool": {"driver": driver}, "results": results}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def as_json(reports: list[StatementReport]) -> str:
    data = {"statements": [r.model_dump() for r in reports], "findings": len(_findings(reports))}
    return json.dumps(data, indent=2) + "\n"
