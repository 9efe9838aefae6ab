"""comments, an enum type and a table using it, a value added to it, a column from the enum to text and back"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

mood = sa.Enum("happy", "ok", "sad", name="mood")


def upgrade() -> None:
    op.create_table_comment("users", "people who log in")
    op.alter_column("users", "email", existing_type=sa.Text, comment="where we write to")
    op.create_table(
        "moods",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("mood", mood, nullable=False, server_default="ok"),
        sa.Column("note", sa.Text, comment="free text"),
    )
    op.execute("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok'")


def downgrade() -> None:
    op.drop_table("moods")
    mood.drop(op.get_bind())
    op.alter_column("users", "email", existing_type=sa.Text, comment=None)
    op.drop_table_comment("users")
