"""`liveshift convert FILE.sql [-o OUT]`: plain DDL as a liveshift migration file. No database needed.

Exit 0 when converted with nothing to review; 3 when converted but some values are candidates marked REVIEW
(in the file and on stderr); 4 when the SQL holds no DDL (nothing to convert, no file written: an ORM migration
with only Python or no-op operations); 2 when the SQL cannot be read, parsed or converted (naming file and line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liveshift.cli.process import Exit
from liveshift.sqlconvert.convert import convert_file
from liveshift.sqlconvert.statements import NothingToConvert, SqlInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="turn plain SQL DDL into a liveshift migration file (no database needed)",
        description="Convert the statements of FILE (plain SQL, e.g. `alembic upgrade --sql` or Django's "
        "`sqlmigrate` output) into a liveshift migration: ALTER TABLE ADD/DROP/RENAME/ALTER COLUMN, ADD/DROP/RENAME "
        "CONSTRAINT, CREATE/DROP INDEX, CREATE/DROP/RENAME TABLE, COMMENT ON TABLE/COLUMN/CONSTRAINT, CREATE TYPE "
        "AS ENUM, ALTER TYPE ADD/RENAME VALUE and DROP TYPE become their operations, anything else raw_sql; "
        "BEGIN/COMMIT and SET are skipped. Values the SQL does not give (the way back of a type change, a value "
        "for a new NOT NULL column) are written as candidates marked REVIEW. The file is validated before it is "
        "written; check it against the database with `liveshift plan`. Exit 0 when nothing needs review, 3 when "
        "something does, 4 when the SQL holds no DDL (nothing to convert: no file is written), 2 when the SQL "
        "cannot be read, parsed or converted.",
    )
    parser.add_argument("file", metavar="FILE", help="SQL file; - reads standard input (e.g. piped from alembic)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the migration here (default: stdout)")
    parser.add_argument(
        "--name",
        help="migration name (default: from FILE's name, e.g. 0002_add.sql -> m0002_add; 'converted' for stdin)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        conversion = convert_file(args.file, args.name)
    except NothingToConvert as exc:  # not an error: the migration changes no schema, so no file is written
        sys.stderr.write(f"liveshift convert: {exc}; no migration written\n")
        return Exit.NOTHING
    except SqlInputError as exc:
        sys.stderr.write(f"liveshift convert: {exc}\n")
        return Exit.REFUSED
    if args.output:
        Path(args.output).write_text(conversion.text)
    else:
        sys.stdout.write(conversion.text)
    for note in conversion.notes:
        sys.stderr.write(f"note: {note}\n")
    for review in conversion.reviews:
        sys.stderr.write(f"REVIEW: {review.render()}\n")
    if conversion.reviews:
        sys.stderr.write(f"liveshift convert: {len(conversion.reviews)} values to review (marked REVIEW in the file)\n")
        return Exit.REVIEW
    return Exit.OK
