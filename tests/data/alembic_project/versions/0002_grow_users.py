"""age, a longer name, an index on email, no legacy"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("users", sa.Column("age", sa.Integer, nullable=False, server_default="0"))
    op.alter_column("users", "name", type_=sa.Text, existing_type=sa.String(50))
    op.create_index("users_email_idx", "users", ["email"])
    op.drop_column("users", "legacy")


def downgrade() -> None:
    op.add_column("users", sa.Column("legacy", sa.Text))
    op.drop_index("users_email_idx")
    op.alter_column("users", "name", type_=sa.String(50), existing_type=sa.Text)
    op.drop_column("users", "age")
