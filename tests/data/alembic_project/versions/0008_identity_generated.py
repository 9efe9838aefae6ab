"""identity and generated columns in a new table; a table without a key"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True, start=100), primary_key=True),
        sa.Column("cents", sa.Integer, nullable=False),
        sa.Column("euros", sa.Numeric, sa.Computed("cents / 100.0", persisted=True)),
    )
    op.create_table("visits", sa.Column("code", sa.Integer, nullable=False), sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("tickets")
