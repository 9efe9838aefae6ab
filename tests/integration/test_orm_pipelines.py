"""ORM output through `liveshift convert` into migrations liveshift runs, with the real Alembic and Django.

Alembic: `alembic upgrade A:B --sql` (offline) | `liveshift convert - -o m.yaml`. Django: `manage.py sqlmigrate
app N` (PostgreSQL backend on the test database) | `liveshift convert`. Each converted migration runs through
every phase on the real test PostgreSQL, with rows in the tables, and leaves the schema the ORM's SQL leaves.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from liveshift.spec import Migration, load_migration
from tests.harness.db import complete, plain_alter_snapshot, snapshot
from tests.harness.postgres import PostgresServer, fresh_database
from tests.harness.temporal import TemporalServer, WorkerHandle

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data"
ALEMBIC_INI = DATA / "alembic_project" / "alembic.ini"
DJANGO_PROJECT = DATA / "django_project"
LIVESHIFT = Path(sys.executable).parent / "liveshift"


def run(args: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd
    )


def convert(sql: str, tmp_path: Path, name: str) -> tuple[Migration, subprocess.CompletedProcess[str]]:
    """The pipe an operator runs: the ORM's SQL on stdin of `liveshift convert - -o FILE`."""
    out = tmp_path / f"{name}.yaml"
    done = run([str(LIVESHIFT), "convert", "-", "-o", str(out), "--name", name], stdin=sql)
    assert done.returncode in (0, 3), done.stderr
    return load_migration(out), done


def alembic(*args: str, url: str | None = None) -> str:
    env = {"LIVESHIFT_ALEMBIC_URL": url} if url else None
    done = run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), *args], env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def sqlalchemy_url(dsn: str) -> str:
    p = psycopg.conninfo.conninfo_to_dict(dsn)
    url = URL.create(
        "postgresql+psycopg", p.get("user"), p.get("password"), p.get("host"), int(p.get("port", 5432)), p.get("dbname")
    )
    return url.render_as_string(hide_password=False)


def django(dsn: str, *args: str) -> str:
    done = run([sys.executable, "manage.py", *args], env={"LIVESHIFT_DJANGO_DSN": dsn}, cwd=DJANGO_PROJECT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_django_sqlmigrate_converted_runs_through_liveshift(dsn: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    first_sql = django(dsn, "sqlmigrate", "shop", "0001")
    first, done = convert(first_sql, tmp_path, "shop_0001")
    assert [op.op for op in first.operations] == ["raw_sql"]  # an identity column: create_table has none
    complete(dsn, first)
    conn.execute("INSERT INTO shop_author (name) SELECT 'author ' || g FROM generate_series(1, 300) g")

    second_sql = django(dsn, "sqlmigrate", "shop", "0002")
    # run as is, Django's one transaction would hold ACCESS EXCLUSIVE through the rewrite and the index build
    linted = run([str(LIVESHIFT), "lint", "-", "--findings-only"], stdin=second_sql)
    assert linted.returncode == 1
    assert "<stdin>:14: holding-lock-in-transaction:" in linted.stdout
    assert "<stdin>:14: require-concurrent-index-creation:" in linted.stdout
    second, done = convert(second_sql, tmp_path, "shop_0002")
    assert done.returncode == 3  # varchar(100) -> varchar(200): the cast and its way back are candidates
    # Django's ADD COLUMN … DEFAULT '' NOT NULL + DROP DEFAULT is one add_column whose up fills existing rows
    assert [op.op for op in second.operations] == ["add_column", "alter_column", "create_index"]
    assert second.operations[0].up == "''" and second.operations[0].column.default is None
    complete(dsn, second)

    assert snapshot(conn) == plain_alter_snapshot(conn, first_sql, second_sql)
    assert conn.execute("SELECT count(*) FROM shop_author WHERE email = ''").fetchone() == (300,)
    # Django records what ran out of band with --fake; then its ORM works on the migrated table
    django(dsn, "migrate", "shop", "--fake")
    assert "[X] 0002_author_email" in django(dsn, "showmigrations", "shop")
    count = "from shop.models import Author; Author.objects.create(name='n', email='e'); print(Author.objects.count())"
    assert django(dsn, "shell", "-c", count).split()[-1] == "301"


CONTRIB = ("admin", "auth", "contenttypes", "sessions")
CONTRIB_SETTINGS = {"DJANGO_SETTINGS_MODULE": "shopsite.contrib_settings"}


def contrib(dsn: str, *args: str) -> str:
    done = run(
        [sys.executable, "manage.py", *args], env={"LIVESHIFT_DJANGO_DSN": dsn, **CONTRIB_SETTINGS}, cwd=DJANGO_PROJECT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def contrib_migrations(dsn: str) -> list[tuple[str, str]]:
    """(app, migration) of Django's contrib apps in the order `manage.py migrate` applies them."""
    planned = [line.split(".", 1) for line in contrib(dsn, "migrate", "--plan").splitlines() if "." in line]
    return [(app, name) for app, name in planned if app in CONTRIB]


def liveshift_cli(temporal: TemporalServer, task_queue: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    env |= {
        "LIVESHIFT_TEMPORAL_ADDRESS": temporal.address,
        "LIVESHIFT_TEMPORAL_NAMESPACE": temporal.namespace,
        "LIVESHIFT_TASK_QUEUE": task_queue,
    }
    return subprocess.run([str(LIVESHIFT), *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.timeout(900)
async def test_django_contrib_migrations_through_convert_and_migrate(
    dsn: str,
    conn: psycopg.Connection,
    pg_server: PostgresServer,
    temporal: TemporalServer,
    liveshift_worker: WorkerHandle,
    tmp_path: Path,
) -> None:
    """admin, auth, contenttypes and sessions: `sqlmigrate | liveshift convert` per migration into a directory,
    `liveshift migrate` of that directory, no hand edits; the schema is what `manage.py migrate` leaves."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    migrations = contrib_migrations(dsn)
    assert len(migrations) == 18  # Django 5.2: admin 3, auth 12, contenttypes 2, sessions 1
    outcomes: dict[int, list[str]] = {}
    for i, (app, name) in enumerate(migrations, 1):
        sql = contrib(dsn, "sqlmigrate", app, name)
        out = directory / f"{i:02d}_{app}_{name}.yaml"
        label = f"{app}_{name.split('_')[0]}"
        done = run([str(LIVESHIFT), "convert", "-", "-o", str(out), "--name", label], stdin=sql)
        outcomes.setdefault(done.returncode, []).append(f"{app}.{name}")
        assert done.returncode in (0, 3, 4), done.stderr
    # 0: converted; 3: converted with candidates marked REVIEW (the varchar length changes' casts); 4: no DDL
    assert {code: len(names) for code, names in outcomes.items()} == {0: 4, 3: 8, 4: 6}, outcomes

    queue = liveshift_worker.task_queue
    args = ("migrate", str(directory), "--target", "test", "--auto-cutover", "--soak", "0", "--wait")
    applied = await asyncio.to_thread(liveshift_cli, temporal, queue, *args)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "all 12 files applied on test" in applied.stdout

    with fresh_database(pg_server) as reference_dsn, psycopg.connect(reference_dsn) as reference:
        for app in CONTRIB:
            contrib(reference_dsn, "migrate", app)
        expected = snapshot(reference)
    expected.pop("django_migrations")
    assert snapshot(conn) == expected
    # Django records what ran out of band with --fake; its ORM then works on the migrated tables
    contrib(dsn, "migrate", "--fake")  # every app at once: post_migrate then sees the final models
    create = "from django.contrib.auth.models import User; User.objects.create_user('ada'); print(User.objects.count())"
    assert contrib(dsn, "shell", "-c", create).split()[-1] == "1"


# the revisions of tests/data/alembic_project, oldest first: 0004-0007 cover issue 22 (comments, an enum type, a
# value added and one renamed, an enum column to text, named constraints with options, index options, a check, a
# renamed constraint, raw SQL); identity columns are left out until create_table has them
ALEMBIC_REVISIONS = ("base", "0001", "0002", "0003", "0004", "0005", "0006", "0007")


def alembic_to_directory(directory: Path, first: int, last: int) -> dict[str, tuple[int, list[str], str]]:
    """`alembic upgrade A:B --sql | liveshift convert - -o DIR/NN_alembic_B.yaml` for revisions first..last, as an
    operator pipes them, with no hand edits: each file's convert exit code, operations and stderr."""
    converted = {}
    for i in range(first, last + 1):
        before, revision = ALEMBIC_REVISIONS[i - 1], ALEMBIC_REVISIONS[i]
        sql = alembic("upgrade", f"{before}:{revision}", "--sql")
        out = directory / f"{i:02d}_alembic_{revision}.yaml"
        done = run([str(LIVESHIFT), "convert", "-", "-o", str(out), "--name", f"alembic_{revision}"], stdin=sql)
        assert done.returncode in (0, 3), done.stderr
        converted[revision] = (done.returncode, [op.op for op in load_migration(out).operations], done.stderr)
    return converted


@pytest.mark.timeout(900)
async def test_alembic_project_through_convert_and_migrate(
    dsn: str,
    conn: psycopg.Connection,
    pg_server: PostgresServer,
    temporal: TemporalServer,
    liveshift_worker: WorkerHandle,
    tmp_path: Path,
) -> None:
    """Every revision of the Alembic project: `alembic upgrade A:B --sql | liveshift convert` per revision into a
    directory, `liveshift migrate` of it, no hand edits (rows in the table from the first revision on); the schema
    is what `alembic upgrade head` leaves online on another database, and `alembic current` follows."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    queue = liveshift_worker.task_queue
    args = ("migrate", str(directory), "--target", "test", "--auto-cutover", "--soak", "0", "--wait")
    # the version table's statements are raw SQL, so `alembic current` follows
    assert alembic_to_directory(directory, 1, 1)["0001"][:2] == (0, ["raw_sql", "create_table", "raw_sql"])
    applied = await asyncio.to_thread(liveshift_cli, temporal, queue, *args)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    conn.execute(
        "INSERT INTO users (email, name, legacy) "
        "SELECT 'u' || g || '@x.org', 'user ' || g, 'l' FROM generate_series(1, 300) g"
    )
    converted = alembic_to_directory(directory, 2, len(ALEMBIC_REVISIONS) - 1)
    # 0002 and 0007: a type change's cast and its way back, candidates marked REVIEW
    assert {revision: code for revision, (code, _, _) in converted.items()} == {
        "0002": 3, "0003": 0, "0004": 0, "0005": 0, "0006": 0, "0007": 3
    }  # fmt: skip
    assert "REVIEW: <stdin>:7: review operations[1] (alter_column) field 'up'" in converted["0002"][2]
    assert converted["0002"][1] == ["add_column", "alter_column", "create_index", "drop_column", "raw_sql"]
    # a check over a column the previous revision added: in a revision of its own (orm.md)
    assert converted["0003"][1] == ["add_constraint", "raw_sql"]
    assert converted["0004"][1] == [
        "comment", "comment", "create_enum", "create_table", "comment", "add_enum_value", "raw_sql"
    ]  # fmt: skip
    # the foreign key keeps its ON UPDATE; the index with an operator class and INCLUDE stays raw SQL
    assert converted["0005"][1] == ["add_constraint", "add_constraint", "raw_sql", "create_index", "raw_sql"]
    assert converted["0006"][1] == ["rename_constraint", "rename_enum_value", "add_constraint", "raw_sql", "raw_sql"]
    applied = await asyncio.to_thread(liveshift_cli, temporal, queue, *args)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "all 7 files applied on test" in applied.stdout

    with fresh_database(pg_server) as reference_dsn, psycopg.connect(reference_dsn) as reference:
        alembic("upgrade", "head", url=sqlalchemy_url(reference_dsn))
        expected = snapshot(reference)
    assert snapshot(conn) == expected
    assert expected["enum types"] == {"mood": ["happy", "ok", "meh", "down"]}
    assert conn.execute("SELECT count(*), min(age), max(age) FROM users").fetchone() == (300, 0, 0)
    assert "0007 (head)" in alembic("current", url=sqlalchemy_url(dsn))
