"""`liveshift convert FILE.sql [-o OUT]`: plain DDL as a liveshift migration file. No database needed.

A pgroll migration (FILE.yaml/.yml/.json, told by its shape), or a directory of them (-o names the directory
the converted files are written to), converts operation by operation (liveshift/sqlconvert/pgroll.py).

Exit 0 when converted with nothing to review; 3 when converted but some values are candidates marked REVIEW
(in the file and on stderr); 4 when the SQL holds no DDL (nothing to convert, no file written: an ORM migration
with only Python or no-op operations); 2 when the SQL cannot be read, parsed or converted (naming file and line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liveshift.cli.process import Exit
from liveshift.sqlconvert.convert import Conversion, convert_file
from liveshift.sqlconvert.pgroll import PGROLL_SUFFIXES, convert_pgroll, pgroll_files
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
        "cannot be read, parsed or converted. A pgroll migration file (YAML or JSON: `operations` of pgroll's "
        "operations, told by that shape) converts operation by operation, pgroll's `sql` to raw_sql; a directory "
        "of them converts each, in its .ledger's order or else by file name, into the directory -o names "
        "(docs/pgroll.md).",
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        help="SQL file; - reads standard input (e.g. piped from alembic); a pgroll migration (.yaml, .yml, .json) "
        "or a directory of them",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the migration here (default: stdout); for a directory FILE, the directory to write into",
    )
    parser.add_argument(
        "--name",
        help="migration name (default: from FILE's name, e.g. 0002_add.sql -> m0002_add; 'converted' for stdin)",
    )
    parser.set_defaults(run=run)


def _convert(path: str, name: str | None) -> Conversion:
    if Path(path).suffix in PGROLL_SUFFIXES:
        return convert_pgroll(path, name)
    return convert_file(path, name)


def _directory(args: argparse.Namespace) -> int:
    """Each pgroll migration of the directory into the directory `-o` names, under its file's name (so that
    `liveshift migrate` applies them in the same order)."""
    if not args.output or args.name:
        sys.stderr.write("liveshift convert: a directory converts into the directory -o names (without --name)\n")
        return Exit.REFUSED
    try:
        conversions = [(path, convert_pgroll(path)) for path in pgroll_files(Path(args.file))]
    except SqlInputError as exc:  # nothing is written unless every file converts
        sys.stderr.write(f"liveshift convert: {exc}\n")
        return Exit.REFUSED
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    code = Exit.OK
    for path, conversion in conversions:
        (out / f"{path.stem}.yaml").write_text(conversion.text)
        code = max(code, _report(conversion))
    return code


def _report(conversion: Conversion) -> Exit:
    for note in conversion.notes:
        sys.stderr.write(f"note: {note}\n")
    for review in conversion.reviews:
        sys.stderr.write(f"REVIEW: {review.render()}\n")
    if conversion.reviews:
        sys.stderr.write(f"liveshift convert: {len(conversion.reviews)} values to review (marked REVIEW in the file)\n")
        return Exit.REVIEW
    return Exit.OK


def run(args: argparse.Namespace) -> int:
    if Path(args.file).is_dir():
        return _directory(args)
    try:
        conversion = _convert(args.file, args.name)
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
    return _report(conversion)
