"""a check on age: a constraint over a column the previous revision added goes in a revision of its own"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_check_constraint("users_age_nonneg", "users", "age >= 0")


def downgrade() -> None:
    op.drop_constraint("users_age_nonneg", "users")
