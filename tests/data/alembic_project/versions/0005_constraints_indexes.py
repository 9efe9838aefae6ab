"""named constraints with options, index options"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_unique_constraint("users_email_key", "users", ["email"])
    op.create_foreign_key(
        "moods_user_fk", "moods", "users", ["user_id"], ["id"], ondelete="CASCADE", onupdate="CASCADE"
    )
    op.create_index(
        "users_name_pattern_idx",
        "users",
        ["name"],
        postgresql_ops={"name": "text_pattern_ops"},
        postgresql_include=["email"],
        postgresql_where=sa.text("age >= 18"),
    )
    op.create_index("moods_note_hash", "moods", ["note"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_index("moods_note_hash")
    op.drop_index("users_name_pattern_idx")
    op.drop_constraint("moods_user_fk", "moods")
    op.drop_constraint("users_email_key", "users")
