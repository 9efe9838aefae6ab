"""Alembic environment: offline mode writes the SQL (`alembic upgrade A:B --sql`), online mode reads the URL
from LIVESHIFT_ALEMBIC_URL (to ask `alembic current` what a database is at)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(os.environ["LIVESHIFT_ALEMBIC_URL"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
