"""create users"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.String(50)),
        sa.Column("legacy", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("users")
