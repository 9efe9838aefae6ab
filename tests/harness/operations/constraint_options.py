"""Constraint names and options (tests/integration/test_constraint_options.py): named column and table-level
constraints in create_table (an exclusion constraint among them), foreign key actions, match type, deferral and
ON DELETE SET NULL (columns), check NO INHERIT; in add_column and alter_column too."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count, same_side

TABLES = (
    Table("users", "id bigserial PRIMARY KEY, email text NOT NULL, org bigint", rows=200, values={"email": "'u' || g"}),
    Table("teams", "id bigint PRIMARY KEY", rows=10, values={"id": "g"}),
    Table(
        "members",
        "team_id bigint, user_id bigint, PRIMARY KEY (team_id, user_id)",
        rows=10,
        values={"team_id": "g", "user_id": "g"},
    ),
)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email) VALUES (%s)", (f"w{n}",))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


def _book(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id) INSERT INTO bookings "
        "(user_id, code, room, during, team_id, team_user) SELECT id, %s, %s, tstzrange(now(), now() + '1h'), 1, 1 "
        "FROM u",
        (f"w{n}", f"c{n}", n),
    )


BOOKINGS = Scenario(
    tables=TABLES,
    migration="""
name: create_bookings
operations:
  - op: create_table
    table: bookings
    columns:
      - {name: id, type: bigserial, primary_key: true}
      - name: user_id
        type: bigint
        references: {table: users, column: id, name: bookings_owner_fk, on_delete: SET NULL, on_update: CASCADE,
                     match: full, deferrable: true, initially_deferred: true}
      - {name: code, type: text, unique: {name: bookings_code_uq}}
      - name: seats
        type: int
        nullable: false
        default: "1"
        check: {name: bookings_seats_positive, expression: seats > 0, no_inherit: true}
      - {name: room, type: int, nullable: false}
      - {name: during, type: tstzrange, nullable: false}
      - {name: team_id, type: bigint}
      - {name: team_user, type: bigint}
    constraints:
      - {name: bookings_no_overlap, type: exclude, exclude: [{column: during, operator: "&&"}], where: room < 0}
      - {type: unique, columns: [room, code], nulls_not_distinct: true, deferrable: true}
      - {name: bookings_seats_room, type: check, check: seats <= room + 100}
      - type: foreign_key
        name: bookings_member_fk
        columns: [team_id, team_user]
        references: {table: members, columns: [team_id, user_id], on_delete: SET NULL, on_delete_columns: [team_user]}
""",
    plain="""CREATE TABLE bookings (
        id bigserial PRIMARY KEY,
        user_id bigint CONSTRAINT bookings_owner_fk REFERENCES users (id) MATCH FULL ON UPDATE CASCADE
            ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
        code text CONSTRAINT bookings_code_uq UNIQUE,
        seats int NOT NULL DEFAULT 1 CONSTRAINT bookings_seats_positive CHECK (seats > 0) NO INHERIT,
        room int NOT NULL,
        during tstzrange NOT NULL,
        team_id bigint,
        team_user bigint,
        CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&) WHERE (room < 0),
        UNIQUE NULLS NOT DISTINCT (room, code) DEFERRABLE,
        CONSTRAINT bookings_seats_room CHECK (seats <= room + 100),
        CONSTRAINT bookings_member_fk FOREIGN KEY (team_id, team_user) REFERENCES members (team_id, user_id)
            ON DELETE SET NULL (team_user))""",
    blue=Side(_write, _sees),
    green=Side(_book, _sees),
)

BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)

NAMED_COLUMN = Scenario(
    tables=TABLES,
    migration="""
name: users_team
operations:
  - op: add_column
    table: users
    column:
      name: team_id
      type: bigint
      unique: {name: users_team_uq}
      check: {name: users_team_positive, expression: team_id > 0, no_inherit: true}
      references: {table: teams, column: id, name: users_team_fk, on_delete: SET NULL, on_update: CASCADE,
                   deferrable: true}
  - op: alter_column
    table: users
    column: org
    references: {table: teams, column: id, name: users_org_fk, on_delete: CASCADE, match: full}
""",
    plain="""ALTER TABLE users ADD COLUMN team_id bigint CONSTRAINT users_team_uq UNIQUE
        CONSTRAINT users_team_positive CHECK (team_id > 0) NO INHERIT
        CONSTRAINT users_team_fk REFERENCES teams (id) ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE;
    ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org) REFERENCES teams (id) MATCH FULL
        ON DELETE CASCADE""",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)
