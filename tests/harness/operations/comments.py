"""comment, rename_constraint and set_replica_identity, and the comment fields of create_table, add_column and
alter_column (tests/integration/test_comments.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL UNIQUE CHECK (email <> ''), name text, age int NOT NULL DEFAULT 0",
    rows=300,
    values={"email": "'u' || g", "name": "'n' || g", "age": "g % 90"},
    then=("COMMENT ON COLUMN users.email IS 'old'",),
)
TEAMS = Table("teams", "id bigint PRIMARY KEY", rows=5, values={"id": "g"})


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email, name) VALUES (%s, 'w')", (f"w{n}",))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)

COMMENTS = Scenario(
    tables=(USERS, TEAMS),
    migration="""
name: comments
operations:
  - op: create_table
    table: notes
    comment: Notes users write
    columns:
      - {name: id, type: bigserial, primary_key: true}
      - {name: body, type: text, comment: "The note's text"}
    constraints:
      - {name: notes_body_len, type: check, check: length(body) < 1000, comment: short notes only}
  - {op: add_column, table: users, column: {name: nickname, type: text, comment: what friends say}}
  - {op: alter_column, table: users, column: name, comment: legal name}
  - {op: alter_column, table: users, column: age, type: bigint, comment: years}
  - {op: comment, table: users, comment: People who log in}
  - {op: comment, table: users, column: email, comment: null}
  - {op: comment, table: users, constraint: users_email_check, comment: not empty}
  - {op: comment, table: users, column: nickname, comment: "it's a nickname"}
""",
    plain="""
CREATE TABLE notes (id bigserial PRIMARY KEY, body text, CONSTRAINT notes_body_len CHECK (length(body) < 1000));
COMMENT ON TABLE notes IS 'Notes users write';
COMMENT ON COLUMN notes.body IS 'The note''s text';
COMMENT ON CONSTRAINT notes_body_len ON notes IS 'short notes only';
ALTER TABLE users ADD COLUMN nickname text;
COMMENT ON COLUMN users.nickname IS 'it''s a nickname';
COMMENT ON COLUMN users.name IS 'legal name';
ALTER TABLE users ALTER COLUMN age TYPE bigint;
COMMENT ON COLUMN users.age IS 'years';
COMMENT ON TABLE users IS 'People who log in';
COMMENT ON COLUMN users.email IS NULL;
COMMENT ON CONSTRAINT users_email_check ON users IS 'not empty';
""",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)

NAMES_AND_IDENTITY = Scenario(
    tables=(USERS, TEAMS),
    migration="""
name: names_and_identity
operations:
  - {op: rename_constraint, table: users, name: users_email_check, to: users_email_not_empty}
  - {op: rename_constraint, table: users, name: users_email_key, to: users_email_unique}
  - {op: comment, table: users, constraint: users_email_unique, comment: one account per address}
  - {op: create_index, name: users_email_id_idx, table: users, columns: [email, id], unique: true}
  - {op: set_replica_identity, table: users, identity: index, index: users_email_id_idx}
  - {op: set_replica_identity, table: teams, identity: full}
""",
    plain="""
ALTER TABLE users RENAME CONSTRAINT users_email_check TO users_email_not_empty;
ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_email_unique;
COMMENT ON CONSTRAINT users_email_unique ON users IS 'one account per address';
CREATE UNIQUE INDEX users_email_id_idx ON users (email, id);
ALTER TABLE users REPLICA IDENTITY USING INDEX users_email_id_idx;
ALTER TABLE teams REPLICA IDENTITY FULL;
""",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)
