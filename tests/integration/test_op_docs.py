"""Every example in docs/operations.md and README.md is a valid operation against a database shaped like the
examples."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.operations import OPERATION_TYPES
from tests.harness.db import migration

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "operations.md", ROOT / "README.md")

SETUP = """
CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad');
CREATE TYPE legacy_state AS ENUM ('on', 'off');
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text, age int, legacy_code text, mood mood,
                    CONSTRAINT email_has_at CHECK (position('@' IN email) > 0));
CREATE INDEX users_name_idx ON users (name);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, total numeric NOT NULL DEFAULT 0);
CREATE TABLE audit_log (id serial PRIMARY KEY, message text);
CREATE TABLE page_views (id bigint, path text);
CREATE TABLE events (id bigint NOT NULL, created_at date NOT NULL, kind text) PARTITION BY RANGE (created_at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
"""


def examples(doc: Path) -> list[dict]:
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.S)
    found: list[dict] = []
    for block in blocks:
        data = yaml.safe_load(block)
        if isinstance(data, list):
            found += data
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_operation_is_documented_with_an_example(doc: Path) -> None:
    assert {e["op"] for e in examples(doc)} == {t.op_name for t in OPERATION_TYPES}  # type: ignore[attr-defined]


@pytest.mark.parametrize("example", [e for doc in DOCS for e in examples(doc)], ids=lambda e: e["op"])
def test_example_validates_against_the_live_catalog(dsn: str, conn: psycopg.Connection, example: dict) -> None:
    conn.execute(SETUP)
    if example["op"] == "create_table":  # the example creates orders, which the others use
        conn.execute("DROP TABLE orders")
    if example["op"] == "attach_partition":  # the table to attach, shaped like the partitioned one
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE events INCLUDING ALL)").format(sql.Identifier(example["partition"]))
        )
    m = migration(yaml.safe_dump({"name": "doc_example", "operations": [example]}))
    with open_session(dsn) as c:
        preflight.validate(c, m, file="docs")
