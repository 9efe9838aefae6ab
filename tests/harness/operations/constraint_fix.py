"""The scenarios of add_constraint with up/down (tests/integration/test_op_constraint_fix.py): existing rows and
blue's writes that would violate the constraint are fixed by `up` into a hidden copy of the column."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count

TABLES = (
    Table("teams", "id bigint PRIMARY KEY", rows=10, values={"id": "g"}),
    Table(
        "accounts",
        "id bigserial PRIMARY KEY, tag int, email text, age int NOT NULL DEFAULT 0, team_id bigint, nick text",
        rows=300,
        values={
            "email": "'u' || (g % 250)",  # duplicates
            "age": "g % 50 - 10",  # negatives
            "team_id": "g % 20",  # teams that do not exist
            "nick": "CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || g END",  # NULLs
        },
        then=("CREATE INDEX accounts_team_idx ON accounts (team_id)",),
    ),
)


def _side(email: str | None, age: int, team: int, nick: str | None) -> Side:
    """Writes an account tagged n breaking (blue) or keeping (green) every constraint below (an email of None:
    its own, g<n>)."""

    def write(c: psycopg.Connection, n: int) -> None:
        c.execute(
            "INSERT INTO accounts (tag, email, age, team_id, nick) VALUES (%s, %s, %s, %s, %s)",
            (n, email or f"g{n}", age, team, nick),
        )

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        assert count(c, "SELECT count(*) FROM accounts WHERE tag = ANY(%s)", tags) == len(tags)

    return Side(write, sees)


# a named NOT NULL constraint is PostgreSQL 18's; before it, the column is NOT NULL with no constraint to name
NAMED_NOT_NULL = """DO $$ BEGIN
IF current_setting('server_version_num')::int >= 180000 THEN
    EXECUTE 'ALTER TABLE accounts ADD CONSTRAINT accounts_nick_nn NOT NULL nick';
ELSE
    ALTER TABLE accounts ALTER COLUMN nick SET NOT NULL;
END IF; END $$"""


def scenario(name: str, op: str, plain: str) -> Scenario:
    return Scenario(
        tables=TABLES,
        migration=f"name: {name}\noperations:\n  - {op}\n",
        plain=plain,
        blue=_side("u1", -5, 99, None),
        green=_side(None, 5, 1, "g"),
    )


CHECK = scenario(
    "age_nonneg",
    "{op: add_constraint, table: accounts, name: age_nonneg, type: check, check: age >= 0, columns: [age], "
    "up: {age: 'greatest(age, 0)'}}",
    "UPDATE accounts SET age = greatest(age, 0); ALTER TABLE accounts ADD CONSTRAINT age_nonneg CHECK (age >= 0)",
)
UNIQUE = scenario(
    "email_unique",
    "{op: add_constraint, table: accounts, name: accounts_email_key, type: unique, columns: [email], "
    "up: {email: \"email || '#' || id\"}, down: {email: \"split_part(email, '#', 1)\"}}",
    "UPDATE accounts SET email = email || '#' || id; "
    "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email)",
)
FOREIGN_KEY = scenario(
    "team_fk",
    "{op: add_constraint, table: accounts, name: accounts_team_fk, type: foreign_key, columns: [team_id], "
    "references: {table: teams, columns: [id]}, up: {team_id: 'CASE WHEN team_id BETWEEN 1 AND 10 THEN team_id END'}}",
    "UPDATE accounts SET team_id = NULL WHERE team_id NOT BETWEEN 1 AND 10; "
    "ALTER TABLE accounts ADD CONSTRAINT accounts_team_fk FOREIGN KEY (team_id) REFERENCES teams (id)",
)
NOT_NULL = scenario(
    "nick_not_null",
    "{op: add_constraint, table: accounts, name: accounts_nick_nn, type: not_null, columns: [nick], "
    "up: {nick: \"coalesce(nick, 'anonymous')\"}}",
    "UPDATE accounts SET nick = coalesce(nick, 'anonymous'); " + NAMED_NOT_NULL,
)

SCENARIOS = {"check": CHECK, "unique": UNIQUE, "foreign_key": FOREIGN_KEY, "not_null": NOT_NULL}


def _together() -> Scenario:
    """The four in one migration (four columns of one table swapped at once): what the phase matrix runs."""
    ops = "".join(s.migration.split("operations:\n", 1)[1] for s in SCENARIOS.values())
    plain = "; ".join(s.plain for s in SCENARIOS.values())
    return Scenario(TABLES, f"name: all_four\noperations:\n{ops}", plain, CHECK.blue, CHECK.green)


ALL_FOUR = _together()
