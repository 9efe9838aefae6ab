"""create_index with every option (tests/integration/test_index_options.py): per-column operator class,
collation, ordering and nulls; INCLUDE; storage parameters; NULLS NOT DISTINCT; the methods beyond btree."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0, tags text[], "
    "doc jsonb, spot point",
    rows=400,
    values={
        "email": "'u' || g || '@x.org'",
        "name": "CASE WHEN g = 7 THEN NULL ELSE 'n' || g END",
        "age": "g % 90",
        "tags": "ARRAY['t' || (g % 5)]",
        "doc": "jsonb_build_object('k', g)",
        "spot": "point(g, g % 10)",
    },
)


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(conn, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO users (email, name, age, tags, doc, spot) VALUES (%s, %s, 40, ARRAY['w'], '{\"w\": 1}', '(1,2)')",
        (f"w{n}@x.org", f"w{n}"),
    )


BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)

OPTIONS = Scenario(
    tables=(USERS,),
    migration="""
name: users_index_options
operations:
  - op: create_index
    name: users_email_age
    table: users
    columns:
      - {name: email, opclass: text_pattern_ops, collation: C}
      - {name: age, order: desc, nulls: last}
    include: [name]
    storage_parameters: {fillfactor: 70, deduplicate_items: false}
    where: age > 0
  - {op: create_index, name: users_name_uniq, table: users, columns: [name], unique: true, nulls_not_distinct: true}
  - {op: create_index, name: users_tags_gin, table: users, columns: [tags], method: gin}
  - {op: create_index, name: users_doc_gin, table: users, columns: [{name: doc, opclass: jsonb_path_ops}], method: gin}
  - {op: create_index, name: users_spot_gist, table: users, columns: [spot], method: gist, include: [age]}
  - {op: create_index, name: users_email_spgist, table: users, columns: [email], method: spgist}
  - {op: create_index, name: users_id_brin, table: users, columns: [id], method: brin,
     storage_parameters: {pages_per_range: 16}}
  - {op: create_index, name: users_email_hash, table: users, columns: [email], method: hash}
""",
    plain="""
CREATE INDEX users_email_age ON users (email COLLATE "C" text_pattern_ops, age DESC NULLS LAST) INCLUDE (name)
    WITH (fillfactor = 70, deduplicate_items = false) WHERE age > 0;
CREATE UNIQUE INDEX users_name_uniq ON users (name) NULLS NOT DISTINCT;
CREATE INDEX users_tags_gin ON users USING gin (tags);
CREATE INDEX users_doc_gin ON users USING gin (doc jsonb_path_ops);
CREATE INDEX users_spot_gist ON users USING gist (spot) INCLUDE (age);
CREATE INDEX users_email_spgist ON users USING spgist (email);
CREATE INDEX users_id_brin ON users USING brin (id) WITH (pages_per_range = 16);
CREATE INDEX users_email_hash ON users USING hash (email);
""",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)
