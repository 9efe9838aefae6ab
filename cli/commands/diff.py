"""`liveshift diff DESIRED.sql… --dsn DSN [--from CURRENT.sql…] [-o OUT]`: the migration to a desired schema.

Exit 0 when written with nothing to review (or nothing differs); 3 when written with values or renames marked
REVIEW (in the file and on stderr); 2 when a file cannot be read, parsed or built, or the catalog cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liveshift.cli.process import Exit
from liveshift.sqlconvert.convert import default_name
from liveshift.sqlconvert.diff import diff
from liveshift.sqlconvert.statements import SqlInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="write the migration from a live schema (or a schema file) to a desired schema file",
        description="Compare the schema the DESIRED files build (CREATE TABLE, CREATE INDEX, ALTER TABLE … ADD "
        "CONSTRAINT, CREATE VIEW, and the sequences, types and functions they use) with the live schema at "
        "--dsn, or with the schema the --from files build, and write a liveshift migration that makes the "
        "change expand/contract: add/drop/alter column, create/drop index, add/drop constraint, create/drop "
        "table; views as raw_sql; the way back of a widened type and the value of a new NOT NULL column with a "
        "default are inferred. A column (or table) dropped while one of the same type (or columns) is added is "
        "proposed as a rename marked REVIEW, never a drop and an add. The files run in a scratch schema inside a "
        "transaction that is rolled back: nothing is written to the database. Exit 0 when nothing needs review, "
        "3 when something does, 2 when the files or the catalog cannot be read.",
    )
    parser.add_argument("desired", nargs="+", metavar="DESIRED", help="SQL files of the desired schema, in order")
    parser.add_argument(
        "--dsn",
        required=True,
        help="the live database (read only); with --from, any database to build both schemas in (rolled back)",
    )
    parser.add_argument("--from", dest="current", nargs="+", metavar="CURRENT", help="compare with these files")
    parser.add_argument("--schema", default="public", help="the schema compared (default: public)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the migration here (default: stdout)")
    parser.add_argument("--name", help="migration name (default: from the first DESIRED file's name)")
    parser.add_argument("--sql", action="store_true", help="print the plain statements instead (what <diff>:N cites)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        found = diff(args.dsn, args.desired, args.schema, args.name or default_name(args.desired[0]), args.current)
    except SqlInputError as exc:
        sys.stderr.write(f"liveshift diff: {exc}\n")
        return Exit.REFUSED
    if found is None:
        sys.stderr.write("liveshift diff: the schemas do not differ; no migration written\n")
        return Exit.OK
    conversion = found.conversion
    text = found.sql if args.sql else conversion.text
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    for note in conversion.notes:
        sys.stderr.write(f"note: {note}\n")
    for review in conversion.reviews:
        sys.stderr.write(f"REVIEW: {review.render()}\n")
    if conversion.reviews:
        sys.stderr.write(f"liveshift diff: {len(conversion.reviews)} values to review (marked REVIEW in the file)\n")
        return Exit.REVIEW
    return Exit.OK
