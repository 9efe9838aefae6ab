"""`liveshift lint FILE.sql…`: the lock each statement takes, whether it rewrites or scans the table under it,
and the hazards, each with the liveshift operation that does the change safely. No database needed; --dsn
reads the live catalog (column types, sizes, partitions, domains) to decide what depends on it, and --schema
reads the same from a schema file (CREATE statements) without a database.

Exit 0 when no statement has a finding, 1 when some do, 2 when a file cannot be read or parsed, the catalog
cannot be read, or lint itself fails (the error names the file and the statement).
"""

from __future__ import annotations

import argparse
import json
import sys

import psycopg

from liveshift.cli.process import Exit
from liveshift.sqlconvert import lint_formats
from liveshift.sqlconvert.knowledge import Knowledge
from liveshift.sqlconvert.lint import StatementReport, learn_schema, lint_file
from liveshift.sqlconvert.live_catalog import load
from liveshift.sqlconvert.statements import SqlInputError

FORMATS = {"json": lint_formats.as_json, "github": lint_formats.github, "sarif": lint_formats.sarif}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="report the locks and hazards of plain SQL migration files (no database needed)",
        description="For each statement of each FILE: the lock it takes, what that lock blocks, whether it "
        "rewrites the table or scans it under the lock, and its hazards (squawk's rule names), each naming "
        "the liveshift operation that makes the change safely. Exit 0 when there are no findings, 1 when "
        "there are, 2 when a file cannot be read or parsed, the catalog cannot be read, or lint itself fails.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="SQL files; - reads standard input")
    parser.add_argument(
        "--dsn",
        help="read the live catalog (read-only): column types, table sizes, partitions, domains, foreign keys",
    )
    parser.add_argument(
        "--schema",
        action="append",
        default=[],
        metavar="SCHEMA.sql",
        help="a schema file the migrations run against (pg_dump --schema-only, Rails' db/structure.sql): "
        "column types, indexes, partitions, domains, without a database; with --dsn, read after the catalog",
    )
    parser.add_argument(
        "--format",
        choices=["text", *FORMATS],
        default="text",
        help="text (default); json; github (workflow-command annotations); sarif (SARIF 2.1.0)",
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument(
        "--findings-only", action="store_true", help="print only the findings, one per line (file:line: code: …)"
    )
    parser.set_defaults(run=run)


def _statement_line(report: StatementReport) -> str:
    on = f" on {', '.join(report.tables)}" if report.tables else ""
    what = [f"lock {report.lock}{on}"]
    if report.blocks not in ("nothing", "unknown"):
        what.append(f"blocks {report.blocks}")
    if report.rewrites:
        what.append("rewrites the table")
    if report.scans_under_lock:
        what.append("scans it under the lock")
    return f"{report.file}:{report.line}: {report.statement}\n    {'; '.join(what)}"


def render_text(reports: list[StatementReport], findings_only: bool) -> str:
    lines = []
    for report in reports:
        if not findings_only:
            lines.append(_statement_line(report))
        for f in report.findings:
            lines.append(f"{f.file}:{f.line}: {f.code}: {f.message}")
            lines.append(f"    safely: {f.safe}")
    count = sum(len(r.findings) for r in reports)
    lines.append(f"{len(reports)} statements, {count} findings")
    return "\n".join(lines) + "\n"


def _knowledge(dsn: str | None, schemas: list[str]) -> Knowledge | None:
    knowledge = None
    if dsn is not None:
        try:
            knowledge = load(dsn)
        except psycopg.Error as exc:
            raise SqlInputError(f"cannot read the catalog: {str(exc).strip()}", file="--dsn") from None
    for schema in schemas:
        knowledge = learn_schema(schema, knowledge)
    return knowledge


def run(args: argparse.Namespace) -> int:
    fmt = "json" if args.json else args.format
    reports: list[StatementReport] = []
    try:
        knowledge = _knowledge(args.dsn, args.schema)
        for path in args.files:
            reports += lint_file(path, knowledge)
    except SqlInputError as exc:  # includes lint's own failures (LintInternalError): 2, never 1 (findings)
        if fmt == "json":
            sys.stdout.write(json.dumps({"ok": False, "error": str(exc), "file": exc.file, "line": exc.line}) + "\n")
        sys.stderr.write(f"liveshift lint: {exc}\n")
        return Exit.REFUSED
    findings = sum(len(r.findings) for r in reports)
    if fmt in FORMATS:
        sys.stdout.write(FORMATS[fmt](reports))
    else:
        sys.stdout.write(render_text(reports, args.findings_only))
    return Exit.FINDINGS if findings else Exit.OK
