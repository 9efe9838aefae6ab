-- Alembic: op.add_column('users', sa.Column('settings', JSONB, server_default='{}', nullable=False))
ALTER TABLE users ADD COLUMN settings JSONB DEFAULT '{}' NOT NULL;
