"""an enum column to text"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.alter_column("moods", "mood", type_=sa.Text, existing_type=sa.Enum(name="mood"), existing_server_default="ok")


def downgrade() -> None:
    op.alter_column("moods", "mood", type_=sa.Enum(name="mood"), existing_type=sa.Text, postgresql_using="mood::mood")
