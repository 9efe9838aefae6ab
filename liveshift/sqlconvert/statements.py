"""A SQL file as statements, each with its parse tree, its own text and the lines it spans."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from pglast import parse_sql, parser
from pglast.parser import ParseError

from liveshift.errors import LiveshiftError


class SqlInputError(LiveshiftError):
    """A SQL file that cannot be read or parsed, or a statement that cannot be used: names file and line."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(f"{file}:{line}: {message}" if line is not None else f"{file}: {message}")


class NothingToConvert(LiveshiftError):
    """SQL that parses but holds no DDL (only transaction or session control, comments, or nothing at all): an ORM
    migration that changes no schema. Distinct from an error: there is simply no migration to write."""

    def __init__(self, file: str) -> None:
        self.file = file
        super().__init__(f"{file}: nothing to convert (no DDL: only transaction or session control, or comments)")


@dataclass(frozen=True)
class Statement:
    node: Any  # the pglast node of the statement (AlterTableStmt, IndexStmt, ...)
    text: str  # the statement as written, without the trailing semicolon
    line: int  # 1-based line of its first token
    end_line: int
    file: str

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    def error(self, message: str) -> SqlInputError:
        return SqlInputError(message, file=self.file, line=self.line)


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _first_token(tokens: list[Any], start: int, end: int) -> int:
    """Offset of the first token in [start, end) that is not a comment (pglast may include them)."""
    for token in tokens:
        if start <= token.start < end and token.name not in ("SQL_COMMENT", "C_COMMENT"):
            return int(token.start)
    return start


def without_psql_commands(text: str) -> str:
    """`text` with psql's meta-commands (`\\set ON_ERROR_STOP on`, `\\echo …`: a backslash outside a string, comment
    or dollar quote, to the end of its line) blanked, as psql itself never sends them to the server; same length,
    so lines and offsets stay those of the file."""
    try:
        starts = [t.start for t in parser.scan(text) if t.name == "ASCII_92"]
    except ParseError:  # unscannable: the parse below names the error
        return text
    chars = list(text)
    for start in starts:
        end = text.find("\n", start)
        for i in range(start, end if end >= 0 else len(text)):
            chars[i] = " "
    return "".join(chars)


# `COPY … FROM stdin;` then its rows, up to psql's `\.` line (pg_dump's data, a seed script's)
_COPY_DATA = re.compile(r"^\s*COPY\b[^;]*\bFROM\s+stdin\b[^;]*;[^\n]*\n(.*?^\\\.)[ \t]*$", re.I | re.M | re.S)


def without_copy_data(text: str) -> str:
    """`text` with the rows psql sends after `COPY … FROM stdin` blanked (same length: lines stay the file's)."""

    def blank(match: re.Match[str]) -> str:
        start, end = match.span(1)
        return text[match.start() : start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end : match.end()]

    return _COPY_DATA.sub(blank, text)


def split_sql(text: str, file: str) -> list[Statement]:
    """Every statement of `text` (PostgreSQL's grammar; psql meta-commands and COPY's inline rows skipped); a
    syntax error names the file and its line."""
    text = without_psql_commands(without_copy_data(text))
    try:  # pglast's locations (statements and tokens) count characters of `text`
        raw = parse_sql(text)
        tokens = list(parser.scan(text))
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        raise SqlInputError(f"syntax error: {exc.args[0]}", file=file, line=_line_at(text, offset)) from None
    statements = []
    for item in raw:
        start = item.stmt_location or 0
        end = start + item.stmt_len if item.stmt_len else len(text)
        first = _first_token(tokens, start, end)
        body = text[first:end].strip()
        statements.append(Statement(item.stmt, body, _line_at(text, first), _line_at(text, first + len(body)), file))
    return statements


STDIN = "-"


def read_sql(path: str) -> list[Statement]:
    """The statements of the file at `path`; `-` reads standard input (named <stdin> in errors)."""
    label = "<stdin>" if path == STDIN else path
    try:
        if path == STDIN:
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SqlInputError(f"cannot read: {exc}", file=label) from None
    return split_sql(text, label)
