"""a constraint renamed, an enum value renamed, a check, and raw SQL (a view)"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute("ALTER TABLE users RENAME CONSTRAINT users_age_nonneg TO users_age_ok")
    op.execute("ALTER TYPE mood RENAME VALUE 'sad' TO 'down'")
    op.create_check_constraint("moods_note_short", "moods", "length(note) < 200")
    op.execute("CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18")


def downgrade() -> None:
    op.execute("DROP VIEW adults")
    op.drop_constraint("moods_note_short", "moods")
    op.execute("ALTER TYPE mood RENAME VALUE 'down' TO 'sad'")
    op.execute("ALTER TABLE users RENAME CONSTRAINT users_age_ok TO users_age_nonneg")
