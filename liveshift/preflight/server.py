"""Which PostgreSQL servers liveshift runs on: refuse the others before anything is planned or written."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from liveshift.errors import SpecError
from liveshift.operations.columns import ColumnDef

if TYPE_CHECKING:
    from liveshift.plan import MigrationPlan

# the oldest server the catalog queries, triggers and DDL are written for (PostgreSQL 13)
MINIMUM_VERSION_NUM = 130000
# the versions the test suite runs against (the embedded wheel's and Debian's)
TESTED_MAJOR_VERSIONS = (15, 18)


def describe(version_num: int) -> str:
    """`server_version_num` as people write it: 150018 -> 15.18 (10 and later: major * 10000 + minor)."""
    return f"{version_num // 10000}.{version_num % 10000}"


def check_version(version_num: int, file: str | None = None) -> None:
    if version_num < MINIMUM_VERSION_NUM:
        tested = ", ".join(str(v) for v in TESTED_MAJOR_VERSIONS)
        raise SpecError(
            f"PostgreSQL {describe(version_num)} is not supported: liveshift needs PostgreSQL "
            f"{describe(MINIMUM_VERSION_NUM)} or later (tested on {tested})",
            file=file,
        )


def require_supported_server(conn: psycopg.Connection, file: str | None = None) -> None:
    """Refuse a server older than PostgreSQL 13, naming its version."""
    row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    check_version(int(row[0]) if row else 0, file)


# GENERATED ALWAYS AS (…) VIRTUAL: PostgreSQL 18 and later
VIRTUAL_GENERATED_SINCE = 180000


def _declared_columns(op: object) -> list[tuple[str, ColumnDef]]:
    """(field, column) of what an operation declares: add_column's `column`, create_table's `columns`."""
    column = getattr(op, "column", None)
    if isinstance(column, ColumnDef):
        return [("column", column)]
    columns = getattr(op, "columns", None) or []
    return [(f"columns[{i}]", c) for i, c in enumerate(columns) if isinstance(c, ColumnDef)]


def check_features(plan: MigrationPlan, version_num: int, file: str | None = None) -> None:
    """Refuse, naming the field, a column the server cannot have: a virtual generated column before 18."""
    if version_num >= VIRTUAL_GENERATED_SINCE:
        return
    for op, ctx, _ in plan.ops:
        for fld, column in _declared_columns(op):
            generated = column.generated_def
            if generated is not None and not generated.stored:
                raise SpecError(
                    f"a virtual generated column needs PostgreSQL 18 or later; this server is {describe(version_num)}",
                    file=file,
                    index=ctx.index,
                    op=op.op_name,
                    field=f"{fld}.generated.stored",
                )
