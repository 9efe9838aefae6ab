CREATE TYPE comment_priority AS ENUM ('low', 'normal', 'high');
ALTER TABLE comments ADD COLUMN priority comment_priority NOT NULL DEFAULT 'normal';
