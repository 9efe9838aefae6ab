ALTER TYPE post_state ADD VALUE IF NOT EXISTS 'archived';
