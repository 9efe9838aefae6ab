"""a primary key for a table without one; an identity column added to a table with rows"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_primary_key("visits_pkey", "visits", ["code"])
    op.add_column("users", sa.Column("number", sa.BigInteger, sa.Identity(always=False)))


def downgrade() -> None:
    op.drop_column("users", "number")
    op.drop_constraint("visits_pkey", "visits")
