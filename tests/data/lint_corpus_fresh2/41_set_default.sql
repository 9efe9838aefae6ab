ALTER TABLE posts ALTER COLUMN views SET DEFAULT 10;
ALTER TABLE comments ALTER COLUMN created_at SET DEFAULT clock_timestamp();
